"""The channels treatments send through (issue 20 item 2): e-mail over SMTP
(:mod:`backend.channels.email`) and SMS through an HTTP gateway
(:mod:`backend.channels.sms`, with the pure half of its signed inbound webhook: verifying a
post, reading a receipt or a reply, telling an opt-out keyword); what became of a message is
a :class:`backend.channels.result.SendResult`. Each is a library the scheduler (and the
inbound route) calls: no global state, the settings passed in, an outcome returned
(delivered, or failed for now or for good) rather than raised. None imports the HTTP layer."""

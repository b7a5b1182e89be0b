"""The channels treatments send through (issue 20 item 2): e-mail over SMTP
(:mod:`backend.channels.email`); what became of a message is a
:class:`backend.channels.result.SendResult`. Each is a library the scheduler calls: no global
state, the settings passed in, an outcome returned (delivered, or failed for now or
for good) rather than raised."""

"""The SSH desk host (issue 18), as ``deploy/ssh`` ships it, on a real OpenSSH server.

``/usr/sbin/sshd`` runs on a free loopback port with a host key of its own and the shipped
``deploy/ssh/collectdesk.conf`` (``Match Group`` … ``ForceCommand``). The agent's account is
made by the shipped ``deploy/ssh/add-agent`` (its login shell the shipped
``collectdesk-session``, its key root's), the desk finds the backend by the shipped
``deploy/ssh/desk.toml`` as its system-wide config file, and the backend is a real
``collectdesk serve`` on loopback (a seeded SQLite database). Then, as an agent would:
``ssh -tt`` in a pty at 80×24 (``TERM=xterm``), sign in as ``agent1``, open the top account of
the worklist, log a call, save it, quit. The contact is then on the backend, and the agent's
drafts and outbox were kept in the agent's own home, private to them.

What is changed in the shipped files, and only that (the test cannot use the system's places):
the group (``collectdesk-agents`` → a throw-away group), the paths (``/usr/local/lib/collectdesk/
collectdesk-session``, ``/etc/collectdesk/authorized_keys``, ``/etc/collectdesk/desk.toml``,
``/opt/collectdesk/venv/bin/collectdesk`` → files of this test, the desk of this checkout) and
the backend's URL. The main ``sshd_config`` is the test's own (port, host key, no PAM: in a
container PAM's ``pam_loginuid`` refuses sessions; no ``StrictModes``: the test's files are
under ``/tmp``, which is world-writable, where the shipped ones are under root's ``/etc``).

The call is logged as the customer calling in (direction ``inbound``): no call-window rule
applies to it, so the test holds at any hour of the real clock that this real desk reads.

sshd logs an agent in as themselves only when it runs as root, so the test needs root (CI runs
as root) and creates a throw-away user and group, removed at the end. Without root, sshd or the
ssh client it is skipped, unless ``COLLECTDESK_REQUIRE_SSHD=1`` (CI sets it): then it fails.
Marked ``processes``; about 15-25 s on two busy cores, every wait bounded.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import pwd
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import termios
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend_client.client import BackendClient
from tests.procs import Backend, seed_database

pytestmark = [pytest.mark.processes]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "ssh"
SSHD = Path("/usr/sbin/sshd")
TOOLS = ("ssh", "ssh-keygen", "useradd", "userdel", "groupdel")
REQUIRED = os.environ.get("COLLECTDESK_REQUIRE_SSHD") == "1"
ROWS, COLUMNS = 24, 80


def _unavailable() -> str | None:
    if os.name != "posix":
        return "an SSH desk host is a POSIX machine"
    if os.geteuid() != 0:
        return "sshd logs an agent in as themselves only when it runs as root (CI runs as root)"
    if not SSHD.is_file():
        return f"{SSHD} is missing (apt-get install openssh-server)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} missing (apt-get install openssh-client passwd)"
    return None


def _run(*args: str | Path, **env: str) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, **env} if env else None)
    assert done.returncode == 0, f"{' '.join(map(str, args))}: {done.stdout}{done.stderr}"
    return done.stdout


def _shipped(name: str, replacements: dict[str, str]) -> str:
    """``deploy/ssh/NAME`` with each of ``replacements`` (which must be there) put in."""
    text = (DEPLOY / name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"deploy/ssh/{name} no longer has {old!r}: say so in this test too"
        text = text.replace(old, new)
    return text


def _runs_as(user: pwd.struct_passwd, program: Path) -> str | None:
    """None if ``program --version`` runs as ``user``; else why not."""
    try:
        done = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=60, cwd="/",
                              user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                              env={"HOME": user.pw_dir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    except OSError as exc:
        return f"{program}: {exc}"
    return None if done.returncode == 0 else f"{program} --version: {done.stderr.strip()[-300:]}"


def _desk_for(user: pwd.struct_passwd, shared: Path) -> Path:
    """This checkout's ``collectdesk``, as the agent can run it.

    First the test's own venv's console script. Its interpreter may be out of the agent's reach,
    as where Python comes from pyenv under ``/root`` (mode 0700: so on this project's machines):
    then a venv of the system's Python of the same version, made here with nothing in it but a
    ``.pth`` that adds the test venv's site-packages (this checkout and its dependencies,
    nothing copied; the same CPython minor version, so the same compiled extensions)."""
    direct = Path(sys.executable).parent / "collectdesk"
    why = _runs_as(user, direct) if direct.is_file() else f"no {direct}"
    if why is None:
        return direct
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = next((p for p in (Path(f"/usr/bin/python{version}"), Path(f"/usr/local/bin/python{version}"))
                 if p.is_file()), None)
    if base is None:
        raise AssertionError(f"the agent cannot run this checkout's desk ({why}), and there is no system "
                             f"python{version} to run it with")
    venv = shared / "venv"
    _run(base, "-m", "venv", "--without-pip", venv)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    (venv / "lib" / f"python{version}" / "site-packages" / "collectdesk-checkout.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n", encoding="utf-8")
    program = venv / "bin" / "collectdesk"
    program.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom collectdesk.cli.entry import main\n"
                       "sys.exit(main())\n", encoding="utf-8")
    program.chmod(0o755)
    again = _runs_as(user, program)
    assert again is None, (f"the agent cannot run this checkout's desk: {why}; with python{version}: {again}. "
                           f"Every directory from / down to {REPO} and {site_packages} must be open to "
                           "other users (o+rx), as a desk host's /opt/collectdesk is")
    return program


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"sshd exited ({proc.returncode}):\n{log.read_text(errors='replace')}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            assert time.monotonic() < deadline, f"sshd did not listen within {timeout} s"
            time.sleep(0.05)


def _processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@dataclass
class SshHost:
    port: int
    user: pwd.struct_passwd
    key: Path
    known_hosts: Path
    backend: Backend
    sshd_log: Path


@pytest.fixture
def ssh_host(tmp_path: Path) -> Iterator[SshHost]:
    why = _unavailable()
    if why:
        if REQUIRED:
            pytest.fail(f"COLLECTDESK_REQUIRE_SSHD=1, but {why}")
        pytest.skip(why)
    suffix = uuid.uuid4().hex[:8]
    group, name = f"cdtest-{suffix}", f"cdagent-{suffix}"
    # What the agent reads (its login shell, the desk's config, its key, its home) is in a
    # directory of its own that the agent may enter: pytest's tmp_path is root's alone (0700).
    shared = Path(tempfile.mkdtemp(prefix="collectdesk-ssh-"))
    shared.chmod(0o755)
    backend = Backend(seed_database(f"sqlite:///{tmp_path / 'backend.db'}", accounts=12), tmp_path / "backend.log")
    sshd: subprocess.Popen | None = None
    made_user = False
    try:
        backend.start()
        (shared / "lib").mkdir(mode=0o755)
        (shared / "home").mkdir(mode=0o755)
        (shared / "desk.toml").write_text(
            _shipped("desk.toml", {"https://collect.bank.example:8765": backend.url}), encoding="utf-8")
        session = shared / "lib" / "collectdesk-session"
        # The desk program is named once the user exists (whether it can run this checkout's
        # venv depends on who it is); until then, the shipped path.
        session.write_text(_shipped("collectdesk-session", {"/etc/collectdesk/desk.toml": str(shared / "desk.toml")}),
                           encoding="utf-8")
        session.chmod(0o755)
        key = tmp_path / "agent_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key)
        made_user = True
        _run(DEPLOY / "add-agent", name, f"{key}.pub", COLLECTDESK_AGENTS_GROUP=group,
             COLLECTDESK_SESSION=str(session), COLLECTDESK_KEYS_DIR=str(shared / "keys"),
             COLLECTDESK_HOMES=str(shared / "home"))
        user = pwd.getpwnam(name)
        assert user.pw_shell == str(session) and user.pw_dir == str(shared / "home" / name)
        desk = _desk_for(user, shared)
        session.write_text(session.read_text(encoding="utf-8").replace("/opt/collectdesk/venv/bin/collectdesk",
                                                                       str(desk)), encoding="utf-8")

        host_key = tmp_path / "ssh_host_ed25519_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key)
        port = _free_loopback_port()
        (tmp_path / "collectdesk.conf").write_text(_shipped("collectdesk.conf", {
            "Match Group collectdesk-agents": f"Match Group {group}",
            "/usr/local/lib/collectdesk/collectdesk-session": str(session),
            "/etc/collectdesk/authorized_keys/%u": f"{shared / 'keys'}/%u",
        }), encoding="utf-8")
        # The test's own main config, in Debian's layout (the snippet included at the top).
        config = tmp_path / "sshd_config"
        config.write_text(
            f"Include {tmp_path / 'collectdesk.conf'}\n"
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile none\n"
            "UsePAM no\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "LogLevel VERBOSE\n", encoding="utf-8")
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(f"[127.0.0.1]:{port} {Path(f'{host_key}.pub').read_text()}", encoding="utf-8")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        sshd_log = tmp_path / "sshd.log"
        with sshd_log.open("wb") as out:
            sshd = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_listening(port, sshd, sshd_log)
        yield SshHost(port, user, key, known_hosts, backend, sshd_log)
    finally:
        if sshd is not None and sshd.poll() is None:
            sshd.terminate()
            try:
                sshd.wait(10)
            except subprocess.TimeoutExpired:
                sshd.kill()
                sshd.wait(10)
        if made_user:
            try:
                uid: int | None = pwd.getpwnam(name).pw_uid
            except KeyError:
                uid = None
            if uid is not None:
                # The agent's session, if the test left it running (sshd's per-connection process,
                # the desk): by their ids, then the account and its home.
                for pid in _processes_of(uid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + 10
                while _processes_of(uid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=30)
            subprocess.run(["groupdel", group], capture_output=True, timeout=30)
        backend.kill()
        shutil.rmtree(shared, ignore_errors=True)


# -- the terminal ------------------------------------------------------------------------------

ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\|\x1b[()][0-9A-Za-z]"
                     rb"|\x1b[@-Z\\-_=>78]")


class Terminal:
    """``ssh -tt`` in a pseudo-terminal of 80×24: keys in, the screens' text out (escape sequences
    taken away, so that a line's words read as they are drawn)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the ssh client, on the pty's slave end
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.pid, self.fd = pid, fd
        self.raw = b""
        self.closed = False
        self.status: int | None = None

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the other end closed
                chunk = b""
            if chunk:
                self.raw += chunk
            else:
                self.closed = True

    def text(self, since: int = 0) -> str:
        return ESCAPES.sub(b"", self.raw[since:]).decode("utf-8", errors="replace")

    def mark(self) -> int:
        return len(self.raw)

    def wait_for(self, needle: str, since: int, timeout: float = 20.0) -> str:
        """What was drawn since ``since`` once ``needle`` is in it."""
        deadline = time.monotonic() + timeout
        while needle not in self.text(since):
            assert not self.closed, f"the session ended before {needle!r}:\n{self.text()[-1500:]}"
            assert time.monotonic() < deadline, f"{needle!r} not drawn within {timeout} s:\n{self.text()[-1500:]}"
            self._read(0.1)
        return self.text(since)

    def send(self, keys: bytes) -> int:
        """Type ``keys``; the mark of what is drawn after them."""
        mark = self.mark()
        os.write(self.fd, keys)
        return mark

    def wait_closed(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while not self.closed:
            assert time.monotonic() < deadline, f"the session did not end within {timeout} s:\n{self.text()[-800:]}"
            self._read(0.1)
        while self.status is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(status)
            else:
                assert time.monotonic() < deadline, "ssh did not exit"
                time.sleep(0.05)
        return self.status

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


async def _contacts_with(url: str, note: str) -> list[tuple[str, object]]:
    """Every contact on agent1's accounts whose note is ``note``, with its account's reference."""
    found = []
    async with BackendClient(url) as api:
        await api.login("agent1", "agent1")
        for item in (await api.worklist(limit=50)).items:
            for entry in (await api.timeline(item.id)).items:
                if entry.kind == "contact" and entry.contact.note == note:
                    found.append((item.account_ref, entry.contact))
    return found


def test_an_agent_logs_a_call_over_ssh(ssh_host: SshHost) -> None:
    started = time.monotonic()
    marker = f"over ssh {uuid.uuid4().hex[:8]}"
    ssh = shutil.which("ssh")
    assert ssh is not None
    argv = [ssh, "-tt", "-F", "/dev/null", "-p", str(ssh_host.port), "-i", str(ssh_host.key),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={ssh_host.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", f"{ssh_host.user.pw_name}@127.0.0.1"]
    term = Terminal(argv, {"TERM": "xterm", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                           "HOME": os.environ.get("HOME", "/root")})
    try:
        try:
            term.wait_for("Sign in to your desk", 0, timeout=45)
            at = term.send(b"agent1\tagent1\r")
            term.wait_for("Worklist", at)
            at = term.send(b"\r")  # the top account
            term.wait_for("Timeline", at)
            at = term.send(b"c")
            term.wait_for("Choose an outcome", at)
            at = term.send(b"2")  # no answer
            term.wait_for("no answer (NA)", at)
            at = term.send(b"\t" + marker.encode())  # to the note, typed
            term.wait_for(marker, at)
            # The customer called in: to the direction (reason, channel, direction), open it,
            # the next choice (inbound). No call window then, whatever the hour.
            at = term.send(b"\t\t\t\r")
            term.wait_for("inbound", at)
            at = term.send(b"\x1b[B\r")
            term.wait_for("The customer called in", at)
            at = term.send(b"\x13")  # ctrl+s
            saved = term.wait_for("Contact saved on", at)
            at = term.send(b"\x11")  # ctrl+q
            assert term.wait_closed() == 0, term.text(at)[-800:]
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n-- sshd:\n{ssh_host.sshd_log.read_text(errors='replace')[-2000:]}"
                                 f"\n-- backend:\n{ssh_host.backend.log_text()[-1000:]}") from None
    finally:
        term.close()

    ref = re.search(r"Contact saved on (\S+?)\.", saved)
    assert ref is not None, saved
    found = asyncio.run(_contacts_with(ssh_host.backend.url, marker))
    assert len(found) == 1, found
    account_ref, contact = found[0]
    assert account_ref == ref.group(1)
    assert (contact.agent, contact.channel, contact.direction, contact.outcome) == (  # type: ignore[attr-defined]
        "agent1", "phone", "inbound", "NA")
    # The agent's drafts and outbox were kept in their own home (XDG data dir), theirs alone.
    drafts = Path(ssh_host.user.pw_dir) / ".local" / "share" / "collectdesk" / "drafts"
    store = drafts / "store.sqlite3"
    assert store.is_file(), sorted(str(p) for p in Path(ssh_host.user.pw_dir).rglob("*"))
    assert (store.stat().st_uid, drafts.stat().st_uid) == (ssh_host.user.pw_uid,) * 2
    assert stat.S_IMODE(drafts.stat().st_mode) == 0o700 and stat.S_IMODE(store.stat().st_mode) == 0o600
    assert time.monotonic() - started < 60


def _ssh_argv(ssh_host: SshHost) -> list[str]:
    ssh = shutil.which("ssh")
    assert ssh is not None
    return [ssh, "-tt", "-F", "/dev/null", "-p", str(ssh_host.port), "-i", str(ssh_host.key),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={ssh_host.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", f"{ssh_host.user.pw_name}@127.0.0.1"]


def _desks_of(uid: int) -> list[int]:
    """The agent's desk processes (``collectdesk desk``, run by the session program)."""
    found = []
    for pid in _processes_of(uid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"desk" in argv and any(a.endswith(b"collectdesk") for a in argv):
            found.append(pid)
    return found


def test_a_dropped_connection_ends_the_desk_and_the_next_login_returns_to_the_draft(ssh_host: SshHost) -> None:
    """Issue 18 item 5 over a real sshd: the ssh client dies mid-call (its connection closes
    under the session); sshd hangs the desk's terminal up and the desk ends, no orphan left;
    the agent logs in again and is back on the account, in the call form, the note as typed."""
    env = {"TERM": "xterm", "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "HOME": os.environ.get("HOME", "/root")}
    marker = f"dropped {uuid.uuid4().hex[:8]}"
    term = Terminal(_ssh_argv(ssh_host), env)
    try:
        term.wait_for("Sign in to your desk", 0, timeout=45)
        at = term.send(b"agent1\tagent1\r")
        term.wait_for("Worklist", at)
        at = term.send(b"\r")
        term.wait_for("Timeline", at)
        at = term.send(b"c")
        term.wait_for("Choose an outcome", at)
        at = term.send(b"2")
        term.wait_for("no answer (NA)", at)
        at = term.send(b"\t" + marker.encode())
        term.wait_for(marker, at)
        desks = _desks_of(ssh_host.user.pw_uid)
        assert len(desks) == 1, desks
        time.sleep(0.5)  # the draft's last keystroke on the disk
        os.kill(term.pid, signal.SIGKILL)  # the connection is gone
    finally:
        term.close()
    deadline = time.monotonic() + 15
    while _desks_of(ssh_host.user.pw_uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _desks_of(ssh_host.user.pw_uid), "the desk lived on after its connection was gone"

    again = Terminal(_ssh_argv(ssh_host), env)
    try:
        again.wait_for("Sign in to your desk", 0, timeout=45)
        at = again.send(b"agent1\tagent1\r")
        again.wait_for(marker, at)  # the call form, the note as typed
        again.wait_for("Back where you were", at)  # and why
        assert "no answer (NA)" in again.text(at), again.text(at)[-1500:]  # its outcome as chosen
        at = again.send(b"\x11")
        assert again.wait_closed() == 0, again.text(at)[-800:]
    finally:
        again.close()

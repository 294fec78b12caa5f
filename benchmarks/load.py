"""Load: inspectors doing whole inspections against gunicorn on PostgreSQL, driven by locust (issue 12, item 6).

What it does, bounded in time from start to end:

1. Wipes and populates its own PostgreSQL database (default ``suijian_load``; never the tests' one) with the real
   migrations: ``--units`` units (the demo's rows), ``--inspectors`` inspectors each with a login
   (``load-insp-1`` …, password ``suijian-load``, hashed with scrypt as in production) who lead
   ``--tasks-per-inspector`` tasks planned for today, each with a partner inspector who has no login (the lead
   records the partner present and signs for them as 代签).
2. Starts gunicorn (``-w --workers``, sync workers, on 127.0.0.1 and a free port) as in docs/deployment.md,
   in production mode (``SUIJIAN_ENV=production``: scrypt, rate limits in Redis on 127.0.0.1:6379 under a key
   prefix of its own, hidden SQL parameters); only ``SESSION_COOKIE_SECURE=0``, because there is no TLS proxy in
   front of it here.
3. For each ``--users`` level (25, 50, 100, 200) starts locust as a separate process
   (``.venv/bin/locust -f benchmarks/locustfile.py --headless --run-time …``; never imported here) for
   ``--run-time`` seconds: every user logs in, then repeats 我的任务 → task → check-in → record → partner →
   answers → finding → result → signatures → submit with 1–3 s think time (``--wait``). Prints throughput and
   p50/p95/p99 per endpoint (locust's CSV) and the CPU seconds spent by gunicorn, PostgreSQL and locust.
4. Data accounting (unless ``--no-kill``): one more run at ``--kill-users`` users during which one gunicorn worker
   gets ``kill -9`` halfway through (the master starts a new one); submits that fail are retried with the same
   record UUID. Afterwards the database is compared with the submits locust saw acknowledged: acknowledged but
   not stored, stored more than once, and "draft → submitted" audit events per record.
5. Stops gunicorn and prints the tables (Markdown) for docs/performance.md.

    .venv/bin/python benchmarks/load.py                                   # 25/50/100/200 users, 60 s each + kill run
    .venv/bin/python benchmarks/load.py --users 50 --run-time 30 --no-kill
    .venv/bin/python benchmarks/load.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/suijian_load

Everything listens on loopback only. The load generator shares the machine's cores with the server, as the
issue's target says ("p95 < 500 ms at 50 req/s on these two cores with the load generator on the same machine").
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as c
import psutil
from sqlalchemy import func, select

from webapp import create_app
from webapp.extensions import db

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_BIN = os.path.join(c.ROOT, ".venv", "bin")
DEFAULT_PG = os.environ.get("LOAD_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/suijian_load")
PASSWORD = "suijian-load"  # noqa: S105 - throwaway benchmark accounts
PREFIX = "load-insp-"


# ------------------------------------------------------------------------------------------ population


def populate(url: str, args) -> dict:
    """Schema by the migrations, units, inspectors with logins, today's tasks (see the module docstring)."""
    from webapp.auth.models import Organisation, Role, User
    from webapp.calendar import today
    from webapp.catalog.models import Item, ItemVersion
    from webapp.registry.models import Inspector, InspectorStatus, Unit
    from webapp.tasks.models import Task, TaskAssignment, TaskKind, TaskStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "scrypt", "RATELIMIT_ENABLED": False})
    c.reset_schema(app)
    c.populate(app, args.units, inspectors=0, progress=False)
    rng = random.Random(12)
    t0 = time.perf_counter()
    with app.app_context():
        org_id = db.session.execute(select(Organisation.id).where(Organisation.code == "bench-1")).scalar_one()
        item = db.session.execute(select(Item).where(Item.code == "fire-duty")).scalars().first()
        version_id = db.session.execute(
            select(ItemVersion.id).where(ItemVersion.item_id == item.id).order_by(ItemVersion.version.desc()).limit(1)
        ).scalar_one()
        lo, hi = db.session.execute(select(func.min(Unit.id), func.max(Unit.id))).one()
        probe = User(username="probe", display_name="", role=Role.INSPECTOR, org_id=org_id)
        probe.set_password(PASSWORD)  # one scrypt hash (salted) shared by every account: hashing 200 takes long
        valid = today() + dt.timedelta(days=700)
        leads, partners = [], []
        for i in range(1, args.inspectors + 1):
            user = User(
                username=f"{PREFIX}{i}",
                display_name=f"负载检查员{i}",
                role=Role.INSPECTOR,
                org_id=org_id,
                password_hash=probe.password_hash,
            )
            db.session.add(user)
            db.session.flush()
            for who, out, uid in (("主办", leads, user.id), ("同组", partners, None)):
                insp = Inspector(
                    org_id=org_id,
                    user_id=uid,
                    name=f"{who}{i}",
                    phone=f"139{rng.randrange(10**8):08d}",
                    post="专职消防监督员",
                    cert_no=f"豫负载{who}{i:05d}",
                    cert_valid_until=valid,
                    can_lead=True,
                    status=InspectorStatus.ACTIVE,
                )
                db.session.add(insp)
                out.append(insp)
        db.session.flush()
        for lead, partner in zip(leads, partners, strict=True):
            for _k in range(args.tasks_per_inspector):
                task = Task(
                    org_id=org_id,
                    unit_id=rng.randint(lo, hi),
                    item_version_id=version_id,
                    kind=TaskKind.COMPLAINT,
                    planned_date=today(),
                    status=TaskStatus.PLANNED,
                    origin_note="举报投诉",
                )
                db.session.add(task)
                db.session.flush()
                db.session.add_all(
                    [
                        TaskAssignment(task_id=task.id, slot=0, dept="fire", role="lead", inspector_id=lead.id),
                        TaskAssignment(task_id=task.id, slot=1, dept="fire", role="assist", inspector_id=partner.id),
                    ]
                )
        db.session.commit()
    c.analyse(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    seconds = time.perf_counter() - t0
    tasks = args.inspectors * args.tasks_per_inspector
    print(f"  {args.inspectors} inspectors with logins, {tasks} tasks for today ({seconds:.1f} s)", flush=True)
    return {"tasks": tasks}


# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int, tmp: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SUIJIAN_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"suijian-load-{os.getpid()}",
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback: no TLS proxy in front of gunicorn here
        "SUIJIAN_INSTANCE": os.path.join(tmp, "instance"),
        "STORAGE_URL": "file://" + os.path.join(tmp, "storage"),
        "QUEUE_URL": os.environ.get("LOAD_QUEUE_URL", ""),
    }
    log = open(os.path.join(tmp, "gunicorn.log"), "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            os.path.join(VENV_BIN, "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "--timeout",
            "60",
            "wsgi:app",
        ],
        cwd=c.ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200 and len(workers_of(proc)) >= workers:
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"gunicorn did not answer /healthz within 90 s; see {log.name}")


def workers_of(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children()
    except psutil.NoSuchProcess:
        return []


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class CpuMeter:
    """CPU seconds (user + system) of gunicorn (master, workers, reaped workers), PostgreSQL backends, locust."""

    def __init__(self, gunicorn: subprocess.Popen):
        self.gunicorn = gunicorn
        self.dead = 0.0  # CPU of workers seen earlier that are gone (killed)
        self.seen: dict[int, float] = {}

    def _gunicorn(self) -> float:
        total = 0.0
        procs = [psutil.Process(self.gunicorn.pid), *workers_of(self.gunicorn)]
        alive = set()
        for p in procs:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            self.seen[p.pid] = t.user + t.system
            alive.add(p.pid)
        for pid in list(self.seen):
            if pid not in alive:
                self.dead += self.seen.pop(pid)
        total = sum(self.seen.values()) + self.dead
        return total

    @staticmethod
    def _postgres() -> float:
        total = 0.0
        for p in psutil.process_iter(["name", "cpu_times"]):
            if p.info["name"] in ("postgres", "postmaster") and p.info["cpu_times"]:
                total += p.info["cpu_times"].user + p.info["cpu_times"].system
        return total

    def sample(self) -> tuple[float, float]:
        return self._gunicorn(), self._postgres()


# --------------------------------------------------------------------------------------------- locust


def run_locust(host: str, users: int, seconds: int, prefix: str, ack_file: str, args, during=None) -> dict:
    """One headless locust process for ``seconds``; ``during(elapsed)`` is called every second meanwhile."""
    env = {
        **os.environ,
        "LOAD_USER_PREFIX": PREFIX,
        "LOAD_PASSWORD": PASSWORD,
        "LOAD_ACK_FILE": ack_file,
        "LOAD_WAIT_MIN": str(args.wait[0]),
        "LOAD_WAIT_MAX": str(args.wait[1]),
    }
    cmd = [
        os.path.join(VENV_BIN, "locust"),
        "-f",
        os.path.join(HERE, "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(max(1.0, users / args.ramp)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "10",
        "--host",
        host,
        "--csv",
        prefix,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    t0 = time.monotonic()
    with open(prefix + ".log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=c.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        locust_cpu = 0.0
        try:
            while proc.poll() is None:
                elapsed = time.monotonic() - t0
                if elapsed > seconds + 120:
                    proc.kill()
                    raise RuntimeError(f"locust ran past {seconds + 120} s; see {prefix}.log")
                try:
                    t = psutil.Process(proc.pid).cpu_times()
                    locust_cpu = t.user + t.system
                except psutil.NoSuchProcess:
                    pass
                if during:
                    during(elapsed)
                time.sleep(1)
        finally:
            if proc.poll() is None:
                proc.kill()
    return {"wall": time.monotonic() - t0, "locust_cpu": locust_cpu}


def read_stats(prefix: str) -> list[dict]:
    with open(prefix + "_stats.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def level(host: str, users: int, gunicorn: subprocess.Popen, tmp: str, args, kill: bool = False) -> dict:
    prefix = os.path.join(tmp, f"locust-{users}{'-kill' if kill else ''}")
    ack_file = prefix + ".acks"
    open(ack_file, "w").close()
    meter = CpuMeter(gunicorn)
    g0, p0 = meter.sample()
    load0 = os.getloadavg()[0]
    killed: list[int] = []

    def during(elapsed: float) -> None:
        meter.sample()
        if kill and not killed and elapsed >= args.run_time / 2:
            victims = workers_of(gunicorn)
            if victims:
                pid = victims[0].pid
                os.kill(pid, signal.SIGKILL)  # our own child's child: one worker, by its id
                killed.append(pid)
                print(f"    kill -9 {pid} (a gunicorn worker) at {elapsed:.0f} s", flush=True)

    run = run_locust(host, users, args.run_time, prefix, ack_file, args, during)
    g1, p1 = meter.sample()
    rows = read_stats(prefix)
    agg = next(r for r in rows if r["Name"] == "Aggregated")
    out = {
        "users": users,
        "rows": [r for r in rows if r["Name"] != "Aggregated"],
        "agg": agg,
        "gunicorn_cpu": g1 - g0,
        "postgres_cpu": p1 - p0,
        "locust_cpu": run["locust_cpu"],
        "wall": run["wall"],
        "load": (load0, os.getloadavg()[0]),
        "acks": ack_file,
        "killed": killed,
    }
    print(
        f"  {users:4d} users: {float(agg['Requests/s']):6.1f} req/s, p50 {agg['50%']} ms, p95 {agg['95%']} ms, "
        f"p99 {agg['99%']} ms, failures {agg['Failure Count']}/{agg['Request Count']}; CPU s gunicorn "
        f"{out['gunicorn_cpu']:.0f}, postgres {out['postgres_cpu']:.0f}, locust {out['locust_cpu']:.0f} in "
        f"{run['wall']:.0f} s; load {load0:.2f} → {out['load'][1]:.2f}",
        flush=True,
    )
    return out


# ------------------------------------------------------------------------------------------ accounting


def accounting(url: str, ack_file: str) -> dict:
    """Acknowledged submits (locust) against what the database holds."""
    from webapp.audit import AuditEvent
    from webapp.inspections.models import Inspection, InspectionStatus
    from webapp.tasks.models import Task

    acks = {}
    with open(ack_file, encoding="utf-8") as fh:
        for line in fh:
            tid, cu = line.split()
            acks.setdefault(tid, set()).add(cu)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        rows = db.session.execute(
            select(Task.public_id, Inspection.id, Inspection.client_uuid, Inspection.status).join(
                Inspection, Inspection.task_id == Task.id
            )
        ).all()
        per_task: dict[str, list] = {}
        for r in rows:
            per_task.setdefault(r.public_id, []).append(r)
        submit_events = dict(
            db.session.execute(
                select(AuditEvent.subject_id, func.count())
                .where(AuditEvent.action == "inspection.submit")
                .group_by(AuditEvent.subject_id)
            ).all()
        )
        db.session.remove()
        db.engine.dispose()
    lost = 0
    for tid, uuids in acks.items():
        stored = {str(r.client_uuid) for r in per_task.get(tid, []) if r.status == InspectionStatus.SUBMITTED}
        lost += len(uuids - stored)
    submitted = [r for rs in per_task.values() for r in rs if r.status == InspectionStatus.SUBMITTED]
    return {
        "acknowledged": sum(len(u) for u in acks.values()),
        "acknowledged_lost": lost,
        "tasks_with_two_records": sum(1 for rs in per_task.values() if len(rs) > 1),
        "tasks_submitted_twice": sum(
            1 for rs in per_task.values() if sum(r.status == InspectionStatus.SUBMITTED for r in rs) > 1
        ),
        "submitted_total": len(submitted),
        "submit_events_max": max(submit_events.values(), default=0),
        "records_with_extra_submit_events": sum(1 for n in submit_events.values() if n > 1),
    }


def submitted_count(url: str) -> int:
    from webapp.inspections.models import Inspection, InspectionStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        n = db.session.execute(
            select(func.count()).select_from(Inspection).where(Inspection.status == InspectionStatus.SUBMITTED)
        ).scalar_one()
        db.session.remove()
        db.engine.dispose()
    return n


def scrypt_ms() -> float:
    from werkzeug.security import check_password_hash, generate_password_hash

    h = generate_password_hash(PASSWORD, method="scrypt")
    return min(c.timed(lambda: check_password_hash(h, PASSWORD), 5)) * 1000


# ------------------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL URL of the benchmark's own database (wiped)")
    parser.add_argument("--users", default="25,50,100,200", help="user counts, one locust run each")
    parser.add_argument("--run-time", type=int, default=60, help="seconds per locust run")
    parser.add_argument("--ramp", type=float, default=20, help="seconds over which the users start")
    parser.add_argument("--wait", type=float, nargs=2, default=(1.0, 3.0), help="think time between requests, s")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (docs/deployment.md: 4)")
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--tasks-per-inspector", type=int, default=12)
    parser.add_argument("--kill-users", type=int, default=100, help="users of the run with a worker killed")
    parser.add_argument("--no-kill", action="store_true", help="skip the worker-kill run and its accounting")
    parser.add_argument("--keep-files", action="store_true", help="keep locust's CSV/logs and gunicorn's log")
    args = parser.parse_args()
    levels = [int(x) for x in args.users.split(",") if x.strip()]
    if max([*levels, 0 if args.no_kill else args.kill_users]) > args.inspectors:
        parser.error("more users than inspectors with a login")
    print(c.machine_facts(), flush=True)
    if not c.ensure_pg_database(args.pg):
        sys.exit(1)
    t_start = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="suijian-load-")
    print(f"populating {args.pg.rsplit('/', 1)[-1]} …", flush=True)
    populate(args.pg, args)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn = None
    results, acct = [], None
    try:
        gunicorn = start_gunicorn(args.pg, port, args.workers, tmp)
        print(f"gunicorn -w {args.workers} on {host} (pid {gunicorn.pid}); files in {tmp}", flush=True)
        for n in levels:
            results.append(level(host, n, gunicorn, tmp, args))
            time.sleep(5)
        if not args.no_kill:
            before = submitted_count(args.pg)
            kill_run = level(host, args.kill_users, gunicorn, tmp, args, kill=True)
            results.append(kill_run)
            time.sleep(3)
            acct = accounting(args.pg, kill_run["acks"])
            acct["submitted_during_run"] = submitted_count(args.pg) - before
    finally:
        stop(gunicorn)
        if not args.keep_files:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(f"scrypt check_password_hash on this machine, alone: {scrypt_ms():.0f} ms (one login pays it once)")
    print()
    summary = []
    for r in results:
        a = r["agg"]
        summary.append(
            (
                f"{r['users']}{' (worker killed)' if r['killed'] else ''}",
                int(a["Request Count"]),
                int(a["Failure Count"]),
                round(float(a["Requests/s"]), 1),
                int(float(a["50%"])),
                int(float(a["95%"])),
                int(float(a["99%"])),
                round(r["gunicorn_cpu"]),
                round(r["postgres_cpu"]),
                round(r["locust_cpu"]),
                f"{r['load'][0]:.2f} → {r['load'][1]:.2f}",
            )
        )
    print(
        c.table(
            [
                "users",
                "requests",
                "failures",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "CPU s gunicorn",
                "CPU s PostgreSQL",
                "CPU s locust",
                "load avg (1 min)",
            ],
            summary,
        )
    )
    print()
    per_endpoint = []
    for r in results:
        for row in sorted(r["rows"], key=lambda x: x["Name"]):
            per_endpoint.append(
                (
                    f"{r['users']}{'+kill' if r['killed'] else ''}",
                    row["Name"],
                    int(row["Request Count"]),
                    int(row["Failure Count"]),
                    round(float(row["Requests/s"]), 1),
                    int(float(row["50%"])),
                    int(float(row["95%"])),
                    int(float(row["99%"])),
                )
            )
    print(c.table(["users", "endpoint", "requests", "failures", "req/s", "p50 ms", "p95 ms", "p99 ms"], per_endpoint))
    if acct:
        print()
        print(c.table(["data accounting (worker killed)", "count"], [(k, v) for k, v in acct.items()]))
    print(f"\n{c.machine_facts()}; total {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()

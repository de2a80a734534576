"""The lecture's HAProxy config (deploy/lecture.py), checked by HAProxy itself and by traffic.

Two fake replicas say who answered (deploy_helpers.FakeReplica), so affinity is checked from the
replicas' side, not from HAProxy's counters alone.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from deploy_helpers import Balancer, FakeReplica, cookie_value, wait_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from deploy import lecture
from deploy.lecture import COOKIE_NAME, HEALTH_PATH, Replica, haproxy_config, local_replicas


def test_config_is_valid_for_haproxy(haproxy: str, tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(
        haproxy_config(
            local_replicas([8651, 8652, 8653]), bind="0.0.0.0", port=8650, stats_socket=tmp_path / "s.sock"
        )
    )
    result = subprocess.run([haproxy, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    # A broken config is refused by the same check (the check can fail).
    cfg.write_text(cfg.read_text().replace("balance roundrobin", "balance no-such-algorithm"))
    result = subprocess.run([haproxy, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0


def test_config_names_the_shared_settings() -> None:
    text = haproxy_config(local_replicas([9001, 9002]), bind="127.0.0.1", port=9000)
    assert "bind 127.0.0.1:9000" in text
    assert f"cookie {COOKIE_NAME} insert indirect nocache" in text
    assert f"uri {HEALTH_PATH} " in text
    assert "server r1 127.0.0.1:9001 cookie r1" in text and "server r2 127.0.0.1:9002 cookie r2" in text
    assert "timeout tunnel 3600s" in text
    assert "balance source" not in text  # affinity by cookie, never by address
    assert "[::1]:9000" in haproxy_config(local_replicas([9001]), bind="::1", port=9000)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: haproxy_config([]),
        lambda: haproxy_config([Replica("r1", "127.0.0.1", 1), Replica("r1", "127.0.0.1", 2)]),
        lambda: haproxy_config(local_replicas([9001]), bind="0.0.0.0 # x"),
        lambda: haproxy_config(local_replicas([9001]), port=70000),
        lambda: Replica("r 1", "127.0.0.1", 9001),
        lambda: Replica("r1", "127.0.0.1", 0),
    ],
)
def test_bad_settings_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        bad()  # type: ignore[operator]


def test_cli_writes_the_same_config(tmp_path: Path) -> None:
    out = tmp_path / "h.cfg"
    assert (
        lecture.main(
            [
                "--bind",
                "127.0.0.1",
                "--port",
                "9000",
                "--replica",
                "127.0.0.1:9001",
                "--replica",
                "127.0.0.1:9002",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.read_text() == haproxy_config(local_replicas([9001, 9002]), bind="127.0.0.1", port=9000)
    with pytest.raises(SystemExit):
        lecture.main(["--replica", "no-port"])


def _first_visit(balancer: Balancer) -> tuple[str, str]:
    """A new visitor: (the replica that answered, the cookie value HAProxy set)."""
    status, body, set_cookie = balancer.get("/")
    assert status == 200
    value = cookie_value(set_cookie, COOKIE_NAME)
    assert value is not None, f"no {COOKIE_NAME} cookie set: {set_cookie!r}"
    return body, value


def test_a_client_with_the_cookie_always_lands_on_the_same_replica(
    fake_replicas: list[FakeReplica], balancer_factory
) -> None:
    balancer = balancer_factory(fake_replicas)
    answered, value = _first_visit(balancer)
    assert answered == value  # the cookie names the replica that served the first visit
    for _ in range(20):
        status, body, set_cookie = balancer.get("/page", cookie=f"{COOKIE_NAME}={value}")
        assert (status, body) == (200, answered)
        assert cookie_value(set_cookie, COOKIE_NAME) is None  # indirect: a valid cookie is not set again
    # The other replica's cookie sticks to the other replica.
    other = "r2" if value == "r1" else "r1"
    for _ in range(5):
        assert balancer.get("/", cookie=f"{COOKIE_NAME}={other}")[1] == other
    # New visitors (no cookie) are spread evenly over both replicas, each told where it went.
    visits = [_first_visit(balancer) for _ in range(10)]
    assert all(answered == value for answered, value in visits)
    assert sorted(Counter(answered for answered, _ in visits).values()) == [5, 5]


def test_an_unhealthy_replica_is_taken_out_and_its_clients_move_with_a_new_cookie(
    fake_replicas: list[FakeReplica], balancer_factory
) -> None:
    balancer = balancer_factory(fake_replicas)
    r1 = fake_replicas[0]
    assert balancer.get("/", cookie=f"{COOKIE_NAME}=r1")[1] == "r1"
    r1.healthy = False
    wait_for(lambda: balancer.stats()["r1"]["status"] == "DOWN", 10, "r1 marked DOWN")
    status, body, set_cookie = balancer.get("/", cookie=f"{COOKIE_NAME}=r1")
    assert (status, body) == (200, "r2")
    assert cookie_value(set_cookie, COOKIE_NAME) == "r2"  # the client now sticks to r2
    # Back up after one good check (rise 1); the old cookie leads to r1 again.
    r1.healthy = True
    wait_for(lambda: balancer.stats()["r1"]["status"] == "UP", 10, "r1 UP again")
    assert balancer.get("/", cookie=f"{COOKIE_NAME}=r1")[1] == "r1"


def test_a_dead_replica_is_taken_out_and_no_client_sees_an_error(
    fake_replicas: list[FakeReplica], balancer_factory
) -> None:
    balancer = balancer_factory(fake_replicas)
    fake_replicas[0].stop()  # connections to r1 are refused from now on
    # Even before the health check notices, a request for r1 is redispatched to r2.
    status, body, set_cookie = balancer.get("/", cookie=f"{COOKIE_NAME}=r1")
    assert (status, body) == (200, "r2")
    assert cookie_value(set_cookie, COOKIE_NAME) == "r2"
    wait_for(lambda: balancer.stats()["r1"]["status"] == "DOWN", 10, "r1 marked DOWN")
    assert all(balancer.get("/")[1] == "r2" for _ in range(5))


def test_websocket_goes_to_the_cookies_replica_and_outlives_the_http_timeouts(
    fake_replicas: list[FakeReplica], balancer_factory
) -> None:
    # Short HTTP timeouts, long tunnel: an idle WebSocket must be governed by the tunnel timeout.
    balancer = balancer_factory(fake_replicas, http_timeout_s=0.3, tunnel_timeout_s=60)
    for target in ("r1", "r2"):
        with connect(
            f"ws://127.0.0.1:{balancer.port}/_stcore/stream",
            additional_headers={"Cookie": f"{COOKIE_NAME}={target}"},
            open_timeout=10,
        ) as ws:
            ws.send("hello")
            assert ws.recv(timeout=10) == f"{target}:hello"
            # Idle for several HTTP timeouts (this idle time is the input under test).
            with pytest.raises(TimeoutError):
                ws.recv(timeout=1.0)
            ws.send("still there")
            assert ws.recv(timeout=10) == f"{target}:still there"


def test_websocket_is_closed_after_the_tunnel_timeout(
    fake_replicas: list[FakeReplica], balancer_factory
) -> None:
    balancer = balancer_factory(fake_replicas, http_timeout_s=60, tunnel_timeout_s=0.3)
    with connect(f"ws://127.0.0.1:{balancer.port}/_stcore/stream", open_timeout=10) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10).endswith(":hello")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)  # closed by HAProxy after 0.3 s idle, well before 10 s

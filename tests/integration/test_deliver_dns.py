"""postern-deliver's MX routing against a real DNS server on loopback
(Debian's dnsmasq on a free port, answering only from its arguments;
the worker is pointed at it with -R and at the test SMTP port with the
test-only -P).  Each MX host has its own 127.0.0.x address.  Root only."""
import os
import shutil

import pytest

import deliver_harness as h
from conftest import free_port

pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
              pytest.mark.skipif(not (shutil.which("dnsmasq") or os.path.exists("/usr/sbin/dnsmasq")),
                                 reason="dnsmasq-base not installed")]

MSG = b"Subject: mx\r\n\r\nhello\r\n"


def port_free_on(*hosts):
    """A port free on 127.0.0.1 that the tests also use on other 127.0.0.x."""
    return free_port()


def worker(dns, port):
    return h.Deliver(args=["-R", "127.0.0.1:%d" % dns.port, "-P", str(port)])


def test_mx_preference_order():
    port = port_free_on()
    recs = ["--mx-host=pref.test,mxa.test,20", "--mx-host=pref.test,mxb.test,10",
            "--host-record=mxa.test,127.0.0.2", "--host-record=mxb.test,127.0.0.3"]
    with h.Dnsmasq(recs) as dns, h.SmtpServer("127.0.0.2", port) as a, \
            h.SmtpServer("127.0.0.3", port) as b, worker(dns, port) as d:
        for j in range(3):
            d.send_job(j + 1, [b"x@pref.test"], MSG, domain=b"pref.test")
            assert d.results(j + 1, 1)[0]["class"] == "ok", d.log()
        assert len(b.transactions) == 3 and a.transactions == []


def test_fallback_when_first_mx_refuses_connections():
    port = port_free_on()
    recs = ["--mx-host=fb.test,mx1.test,10", "--mx-host=fb.test,mx2.test,20",
            "--host-record=mx1.test,127.0.0.4", "--host-record=mx2.test,127.0.0.5"]
    with h.Dnsmasq(recs) as dns, h.SmtpServer("127.0.0.5", port) as second, \
            worker(dns, port) as d:
        d.send_job(1, [b"x@fb.test"], MSG, domain=b"fb.test")
        assert d.results(1, 1)[0]["class"] == "ok", d.log()
        assert len(second.transactions) == 1


def test_first_mx_greets_with_421_second_takes_it():
    port = port_free_on()
    recs = ["--mx-host=busy.test,mx1.test,10", "--mx-host=busy.test,mx2.test,20",
            "--host-record=mx1.test,127.0.0.6", "--host-record=mx2.test,127.0.0.7"]
    with h.Dnsmasq(recs) as dns, h.SmtpServer("127.0.0.6", port, greeting="421 busy") as one, \
            h.SmtpServer("127.0.0.7", port) as two, worker(dns, port) as d:
        d.send_job(1, [b"x@busy.test"], MSG, domain=b"busy.test")
        assert d.results(1, 1)[0]["class"] == "ok", d.log()
        assert one.connections == 1 and len(two.transactions) == 1


def test_no_mx_falls_back_to_address():
    port = port_free_on()
    with h.Dnsmasq(["--host-record=plain.test,127.0.0.8"]) as dns, \
            h.SmtpServer("127.0.0.8", port) as s, worker(dns, port) as d:
        d.send_job(1, [b"x@plain.test"], MSG, domain=b"plain.test")
        assert d.results(1, 1)[0]["class"] == "ok", d.log()
        assert len(s.transactions) == 1


def test_null_mx_is_permanent():
    # RFC 7505: "0 ." as raw MX RDATA (preference 0, root name).
    with h.Dnsmasq(["--dns-rr=nullmx.test,15,000000"]) as dns, worker(dns, 2525) as d:
        d.send_job(1, [b"x@nullmx.test", b"y@nullmx.test"], MSG, domain=b"nullmx.test")
        res = d.results(1, 2)
        assert all((r["class"], r["code"], r["status"]) == ("perm", 556, "5.1.10")
                   for r in res.values()), res


def test_nxdomain_is_permanent_and_resolver_down_is_temp():
    with h.Dnsmasq([]) as dns, worker(dns, 2525) as d:
        d.send_job(1, [b"x@nowhere.test"], MSG, domain=b"nowhere.test")
        r = d.results(1, 1)[0]
        assert (r["class"], r["status"]) == ("perm", "5.1.2"), r
    dead = h.free_udp_port()
    with h.Deliver(args=["-R", "127.0.0.1:%d" % dead, "-t", "1"]) as d:
        d.send_job(2, [b"x@nowhere.test"], MSG, domain=b"nowhere.test")
        r = d.results(2, 1, timeout=40)[0]
        assert (r["class"], r["status"]) == ("temp", "4.4.3"), r

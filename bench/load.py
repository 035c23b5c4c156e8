"""wrk: the Lua scripts for each scenario, one run, and its parsed output."""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "wrk is missing: install it with `sudo apt-get install -y wrk` (Debian/Ubuntu)."

_PRELUDE = """
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local function load(path)
  local items = {{}}
  for line in io.lines(path) do items[#items + 1] = line end
  return items
end
"""

GET_INVOICE = (
    _PRELUDE
    + """
local ids = load("{ids}")
math.randomseed({seed})
request = function()
  return wrk.format("GET", "/invoices/" .. ids[math.random(#ids)])
end
"""
)

GET_PDF = (
    _PRELUDE
    + """
local ids = load("{ids}")
math.randomseed({seed})
request = function()
  return wrk.format("GET", "/invoices/" .. ids[math.random(#ids)] .. "/pdf")
end
"""
)

# Each request a PDF not asked for before (a first render: PDFs are stored once), the ids in
# file order from `offset` on (a run's threads each count on their own: use one thread).
GET_PDF_FIRST = (
    _PRELUDE
    + """
local ids = load("{ids}")
local next_id = {offset}
request = function()
  next_id = next_id + 1
  return wrk.format("GET", "/invoices/" .. ids[(next_id - 1) % #ids + 1] .. "/pdf")
end
"""
)

# Every request invoices a different open order (5 lines), in file order; the file holds more
# orders than a run can use, so no request ever sees an already invoiced order.
POST_INVOICE = (
    _PRELUDE
    + """
local orders = load("{orders}")
local next_order = 0
request = function()
  next_order = next_order + 1
  local id = orders[(next_order - 1) % #orders + 1]
  return wrk.format("POST", "/invoices", nil, '{{"orderId":"' .. id .. '"}}')
end
"""
)

# Payments of 1 against the large invoices (amountDue about 1.2 x 10^8 each), in file order, so
# that the requests in flight at one time are on different invoices (32 connections, 1,000 of them).
POST_PAYMENT = (
    _PRELUDE
    + """
local invoices = load("{invoices}")
local n = 0
request = function()
  n = n + 1
  local id = string.match(invoices[(n - 1) % #invoices + 1], "^(%x+)")
  return wrk.format("POST", "/invoices/" .. id .. "/payments", nil, '{{"amount":1}}')
end
"""
)

# Credit notes of 1 unit of one line (1,000,000 units) of the large invoices, likewise in order.
# Each line of the file: the invoice id and the credited line's id.
POST_CREDIT_NOTE = (
    _PRELUDE
    + """
local invoices = load("{invoices}")
local n = 0
request = function()
  n = n + 1
  local id, line = string.match(invoices[(n - 1) % #invoices + 1], "^(%x+) (%x+)")
  return wrk.format("POST", "/invoices/" .. id .. "/credit-notes", nil,
    '{{"reason":"bench","lineItems":[{{"invoiceLineId":"' .. line .. '","quantity":1}}]}}')
end
"""
)

POST_ORDER_BODY = (
    '{"customer":{"name":"Acme GmbH","email":"billing@acme.example","address":"Main St 1, Berlin"},'
    '"currency":"USD","lineItems":['
    + ",".join(
        f'{{"name":"Widget {i}","sku":"W-{i}","quantity":2,"unitPrice":19.99,"taxRate":{rate}}}'
        for i, rate in enumerate(("0", "8.25", "8.25", "19", "19"))
    )
    + '],"metaFields":[]}'
)

POST_ORDER = (
    _PRELUDE
    + """
local body = '{body}'
request = function()
  return wrk.format("POST", "/orders", nil, body)
end
"""
)

LIST_DEEP = (
    _PRELUDE
    + """
local cursors = load("{cursors}")
math.randomseed({seed})
request = function()
  return wrk.format("GET", "/invoices?limit=20&cursor=" .. cursors[math.random(#cursors)])
end
"""
)

# The console's invoice list (50 a page) at deep cursors, signed in with a session cookie.
CONSOLE_LIST = """
wrk.headers["Cookie"] = "{cookie}"
local cursors = {{}}
for line in io.lines("{cursors}") do cursors[#cursors + 1] = line end
math.randomseed({seed})
request = function()
  return wrk.format("GET", "/admin/invoices?cursor=" .. cursors[math.random(#cursors)])
end
"""

# The soak: three GETs for every POST /invoices.
MIXED = (
    _PRELUDE
    + """
local ids = load("{ids}")
local orders = load("{orders}")
local n = 0
math.randomseed({seed})
request = function()
  n = n + 1
  if n % 4 == 0 then
    local id = orders[(n / 4 - 1) % #orders + 1]
    return wrk.format("POST", "/invoices", nil, '{{"orderId":"' .. id .. '"}}')
  end
  return wrk.format("GET", "/invoices/" .. ids[math.random(#ids)])
end
"""
)


def write_script(path: Path, template: str, **values: object) -> Path:
    path.write_text(template.format(**values))
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    output: str


def available() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, script: Path, duration: float, connections: int, threads: int) -> WrkResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return parse(done.stdout)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse(output: str) -> WrkResult:
    # (wrk pads a latency in seconds, "1.06s ", with a space)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not ("50" in latency and "99" in latency and total and rps):
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    seconds = _ms(total.group(2) + total.group(3)) / 1000
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=seconds,
        rps=float(rps.group(1)),
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(map(int, socket.groups())) if socket else 0,
        output=output,
    )

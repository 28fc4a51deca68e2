-- wrk script: count every response by status and X-Version; print totals
-- and wrk's socket errors as "key value" lines (used by tests and bench).
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	counts = {}
end

function response(status, headers, body)
	local v = headers["X-Version"] or headers["x-version"] or "none"
	local k = status .. ":" .. v
	counts[k] = (counts[k] or 0) + 1
end

function done(summary, latency, requests)
	local total = {}
	for _, t in ipairs(threads) do
		local c = t:get("counts")
		for k, n in pairs(c) do
			total[k] = (total[k] or 0) + n
		end
	end
	for k, n in pairs(total) do
		io.write(string.format("resp %s %d\n", k, n))
	end
	local e = summary.errors
	io.write(string.format("requests %d\n", summary.requests))
	io.write(string.format("errors %d\n", e.connect + e.read + e.write + e.timeout))
	io.write(string.format("socket_errors connect=%d read=%d write=%d timeout=%d\n",
		e.connect, e.read, e.write, e.timeout))
	io.write(string.format("non2xx %d\n", e.status))
	io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
end

// kiln web UI: the live parts only (pages work without it).
// - [data-until]: a countdown to a unix-ms deadline (wait timers)
// - [data-since]: an elapsed-time counter (running jobs)
// - #log[data-stream]: follows a job's log over Server-Sent Events,
//   auto-scrolling until the reader scrolls up
// - #ts-toggle: shows or hides the log's per-line timestamps
// - #rollout-graph[data-graph]: a rollout's graph, refreshed every second
'use strict';
(function () {
	// "29d 23h" from a day on (a 30-day deadline is not "719h 59m"),
	// else "1h 5m 3s"
	function fmt(ms) {
		if (ms < 0) ms = 0;
		var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
		if (h >= 24)
			return Math.floor(h / 24) + 'd ' + h % 24 + 'h';
		s = s % 60;
		return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + s + 's';
	}
	function tick() {
		var now = Date.now();
		document.querySelectorAll('[data-until]').forEach(function (el) {
			var left = Number(el.dataset.until) - now;
			el.textContent = left > 0 ? fmt(left) + ' left' : 'elapsed';
		});
		document.querySelectorAll('[data-since]').forEach(function (el) {
			el.textContent = fmt(now - Number(el.dataset.since));
		});
	}
	// the reader follows the end of the log until they scroll up
	function atBottom() {
		return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 48;
	}
	function live(log) {
		var follow = atBottom() || window.scrollY === 0;
		var status = document.getElementById('live-status');
		window.addEventListener('scroll', function () { follow = atBottom(); }, { passive: true });
		// lines after those the page has; on reconnect the browser sends
		// Last-Event-ID (the last line it got), so none is lost or doubled
		var es = new EventSource(log.dataset.stream + '?after=' + encodeURIComponent(log.dataset.lines));
		if (status)
			status.textContent = 'Live: new lines appear as the job writes them.';
		es.onmessage = function (e) {
			var empty = log.querySelector('.empty');
			if (empty)
				empty.remove();
			// the server renders each line (escaped; colours as classes)
			log.insertAdjacentHTML('beforeend', e.data);
			log.dataset.lines = e.lastEventId;
			if (follow)
				window.scrollTo(0, document.documentElement.scrollHeight);
		};
		es.addEventListener('end', function (e) {
			es.close();
			if (status) {
				status.textContent = 'The job finished: ' + e.data + '. ';
				var a = document.createElement('a');
				a.href = location.pathname;
				a.textContent = 'Reload for steps and groups';
				status.appendChild(a);
			}
			document.querySelectorAll('[data-since]').forEach(function (el) {
				el.removeAttribute('data-since');
			});
		});
	}
	// "Show timestamps": the link reloads with ?timestamps=1 without
	// JavaScript; here it toggles the times in place (every line has its
	// <time>, hidden by CSS) and remembers the choice
	function timestamps(a, log) {
		function set(on) {
			log.classList.toggle('show-ts', on);
			a.setAttribute('aria-pressed', on ? 'true' : 'false');
			try { localStorage.setItem('kiln.timestamps', on ? '1' : '0'); } catch (e) {}
		}
		a.addEventListener('click', function (e) {
			e.preventDefault();
			set(!log.classList.contains('show-ts'));
		});
		a.addEventListener('keydown', function (e) {
			if (e.key === ' ') {
				e.preventDefault();
				set(!log.classList.contains('show-ts'));
			}
		});
		var saved = null;
		try { saved = localStorage.getItem('kiln.timestamps'); } catch (e) {}
		if (saved === '1' && !log.classList.contains('show-ts'))
			set(true);
	}
	// a rollout's graph, refreshed every second while it can change: the
	// latest release (a new one may start) or a pinned one still running
	function rolloutGraph(sec) {
		function running() {
			var g = sec.querySelector('.rg');
			return g && g.dataset.state === 'running';
		}
		function poll() {
			if (sec.dataset.pinned && !running())
				return;
			fetch(sec.dataset.graph, { credentials: 'same-origin' })
				.then(function (r) { return r.ok ? r.text() : null; })
				.then(function (t) {
					if (t === null)
						return;
					// keep the events list open if the reader opened it
					var d = sec.querySelector('details.rg-events'), open = d && d.open;
					sec.innerHTML = t; // rendered (and escaped) by the server
					if (open)
						sec.querySelector('details.rg-events').open = true;
				})
				.catch(function () {})
				.then(function () { setTimeout(poll, 1000); });
		}
		setTimeout(poll, 1000);
	}
	// the deploy controller's live status, every second
	function rollout(pre) {
		function poll() {
			fetch(pre.dataset.status, { credentials: 'same-origin' })
				.then(function (r) { return r.text(); })
				.then(function (t) { pre.textContent = t; })
				.catch(function () {})
				.then(function () { setTimeout(poll, 1000); });
		}
		poll();
	}
	document.addEventListener('DOMContentLoaded', function () {
		var pre = document.querySelector('#rollout[data-status]');
		if (pre && window.fetch)
			rollout(pre);
		var rg = document.querySelector('#rollout-graph[data-graph]');
		if (rg && window.fetch)
			rolloutGraph(rg);
		tick();
		if (document.querySelector('[data-until],[data-since]'))
			setInterval(tick, 1000);
		var ts = document.getElementById('ts-toggle'), all = document.getElementById('log');
		if (ts && all)
			timestamps(ts, all);
		var log = document.querySelector('#log[data-stream]');
		if (log && window.EventSource)
			live(log);
	});
})();

// kiln web UI: the live parts only (pages work without it).
// - [data-until]: a countdown to a unix-ms deadline (wait timers)
// - [data-since]: an elapsed-time counter (running jobs)
// - #log[data-stream]: follows a job's log over Server-Sent Events,
//   auto-scrolling until the reader scrolls up
'use strict';
(function () {
	function fmt(ms) {
		if (ms < 0) ms = 0;
		var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
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
	document.addEventListener('DOMContentLoaded', function () {
		tick();
		if (document.querySelector('[data-until],[data-since]'))
			setInterval(tick, 1000);
		if (window.kilnLog)
			window.kilnLog();
	});
})();

// The live part of a task page, and the only script: the verdict section is
// replaced whenever the grader's watch loop has news (Server-Sent Events on
// /task/<id>/events). Without JavaScript the page still reads, and its forms
// still work; reload to see a new verdict.
'use strict';
(() => {
  const task = document.body.dataset.task;
  if (!task || !window.EventSource) return;
  const source = new EventSource('/task/' + encodeURIComponent(task) + '/events');
  source.addEventListener('building', () => {
    const section = document.getElementById('verdict');
    if (section) section.dataset.state = 'building';
    const status = document.getElementById('live-status');
    if (status) status.textContent = 'building…';
  });
  source.addEventListener('verdict', (e) => {
    const section = document.getElementById('verdict');
    if (section) section.outerHTML = e.data;
  });
})();

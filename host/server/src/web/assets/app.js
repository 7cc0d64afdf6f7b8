// kubecis dashboard: the little the pages need beyond HTML.
// A form with data-confirm asks before it is sent (deleting a report).
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// kubecis dashboard: the little the pages need beyond HTML.

// A form with data-confirm asks before it is sent (deleting a report).
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// A page with running jobs (<main data-refresh>) follows them: every few
// seconds it reads itself again and, when it changed, shows the new one.
// When the server cannot be reached it says so, and keeps trying.
const main = document.querySelector("main[data-refresh]");
if (main) {
  const banner = document.createElement("p");
  banner.className = "error";
  banner.setAttribute("role", "alert");
  banner.hidden = true;
  banner.textContent = "The server cannot be reached; trying again every few seconds.";
  main.before(banner);
  const follow = async () => {
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      banner.hidden = true;
      const next = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = next.querySelector("main");
      if (fresh && fresh.innerHTML !== main.innerHTML) {
        main.innerHTML = fresh.innerHTML;
      }
      if (!fresh || !fresh.hasAttribute("data-refresh")) return;
    } catch {
      banner.hidden = false;
    }
    setTimeout(follow, 3000);
  };
  setTimeout(follow, 3000);
}

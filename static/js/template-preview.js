// The template editor: after a pause in typing, the draft is posted into the preview frame, so the HTML email (or
// the survey page) shows what customers would get. The frame is sandboxed; nothing in it runs.
(() => {
  const form = document.getElementById("template-form");
  const frame = document.getElementById("template-frame");
  if (!form || !frame) return;
  let timer;
  const refresh = () => {
    const action = form.getAttribute("action");
    form.setAttribute("action", form.dataset.frameAction);
    form.setAttribute("target", frame.name);
    form.submit();
    form.setAttribute("action", action);
    form.removeAttribute("target");
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  });
})();

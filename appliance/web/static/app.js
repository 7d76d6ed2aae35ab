/* Mailpouch: a small rich-text editor, the chosen attachments, and draft autosave.
   ES5 on purpose: the phones that use the box have old browsers.  Without this
   file every page still works; compose then sends plain text. */
(function () {
  "use strict";
  var form = document.getElementById("compose");
  if (!form) return;
  var labels = document.getElementById("editor-labels").dataset;

  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML.replace(/\n/g, "<br>");
  }

  function button(label, command, value) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", function () {
      var argument = value;
      if (command === "createLink") {
        argument = window.prompt(labels.linkPrompt, "https://");
        if (!argument) return;
      }
      document.execCommand(command, false, argument);
      editor.focus();
    });
    return b;
  }

  // The editor replaces the textarea; the textarea's label now names the editor.
  var textarea = document.getElementById("body");
  var label = form.querySelector("label[for=body]");
  var editor = document.createElement("div");
  editor.className = "editor";
  editor.contentEditable = "true";
  editor.setAttribute("role", "textbox");
  editor.setAttribute("aria-multiline", "true");
  label.id = "body-label";
  label.removeAttribute("for");
  editor.setAttribute("aria-labelledby", "body-label");
  editor.innerHTML = form.elements.html.value || escapeText(textarea.value);
  var toolbar = document.createElement("div");
  toolbar.className = "toolbar";
  toolbar.appendChild(button(labels.bold, "bold"));
  toolbar.appendChild(button(labels.italic, "italic"));
  toolbar.appendChild(button(labels.list, "insertUnorderedList"));
  toolbar.appendChild(button(labels.numbered, "insertOrderedList"));
  toolbar.appendChild(button(labels.link, "createLink"));
  textarea.hidden = true;
  textarea.parentNode.insertBefore(toolbar, textarea);
  textarea.parentNode.insertBefore(editor, textarea);

  function copyEditor() {
    form.elements.format.value = "html";
    form.elements.html.value = editor.innerHTML;
    textarea.value = editor.innerText;
  }

  // What is typed survives a reload before the next autosave: kept in this tab, per form.
  var kept = ["to", "cc", "bcc", "subject", "html"];
  var storageKey = "compose:" + form.elements.form_token.value;
  function keep() {
    copyEditor();
    var state = {};
    for (var i = 0; i < kept.length; i++) state[kept[i]] = form.elements[kept[i]].value;
    try { window.sessionStorage.setItem(storageKey, JSON.stringify(state)); } catch (e) { /* full or off */ }
  }
  var restored = null;
  try { restored = JSON.parse(window.sessionStorage.getItem(storageKey)); } catch (e) { /* none */ }
  if (restored) {
    for (var k = 0; k < kept.length; k++) {
      if (typeof restored[kept[k]] === "string") form.elements[kept[k]].value = restored[kept[k]];
    }
    if (restored.html) editor.innerHTML = restored.html;
    if (restored.cc || restored.bcc) form.querySelector("details.copies").open = true;
  }
  form.addEventListener("input", keep);

  // One message per form: a second click while the first is on its way does nothing (the
  // server also takes a form's token once, for Back then Send).
  var submitting = false;
  form.addEventListener("submit", function (event) {
    if (submitting || showFiles()) {  // files the box would refuse are not sent at all
      event.preventDefault();
      return;
    }
    submitting = true;
    copyEditor();
    window.setTimeout(function () {  // after the form data is taken, the clicked button's value too
      var buttons = form.querySelectorAll("button[name=action]");
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });
  window.addEventListener("pageshow", function () {  // Back to a page the browser kept
    submitting = false;
    var buttons = form.querySelectorAll("button[name=action]");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
  });

  // Show the chosen files with their sizes before anything is sent; true when they are too big:
  // over the limit unless photos may shrink first, and never more than the box takes in.
  var files = document.getElementById("files");
  var chosen = document.getElementById("chosen");
  var smaller = form.elements.smaller;
  function showFiles() {
    var total = 0, unshrunk = 0;
    chosen.textContent = "";
    for (var i = 0; i < files.files.length; i++) {
      var item = document.createElement("li");
      total += files.files[i].size;
      if (!(smaller.checked && /^image\//i.test(files.files[i].type))) unshrunk += files.files[i].size;
      item.textContent = files.files[i].name + " (" + Math.ceil(files.files[i].size / 1024) + " KB)";
      chosen.appendChild(item);
    }
    var tooBig = unshrunk > Number(files.dataset.limit) || total > Number(files.dataset.most);
    if (tooBig) {
      var warning = document.createElement("li");
      warning.className = "error";
      warning.setAttribute("role", "alert");
      warning.textContent = labels.tooBig;
      chosen.appendChild(warning);
    }
    return tooBig;
  }
  files.addEventListener("change", showFiles);
  smaller.addEventListener("change", showFiles);

  // Save the draft every 20 s while it changes, so a dead battery loses little.
  var lastSaved = null;
  function autosave() {
    copyEditor();
    var data = new FormData(form);
    data.delete("files");
    data.set("action", "autosave");
    var state = [data.get("to"), data.get("cc"), data.get("subject"), data.get("html")].join("\u0000");
    if (state === lastSaved || !(data.get("subject") || editor.textContent.trim())) return;
    var request = new XMLHttpRequest();
    request.open("POST", "/compose");
    request.onload = function () {
      if (request.status !== 200) return;
      form.elements.draft_id.value = JSON.parse(request.responseText).draft_id;
      lastSaved = state;
    };
    request.send(data);
  }
  window.setInterval(autosave, 20000);
})();

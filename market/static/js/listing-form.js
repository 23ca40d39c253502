/* Listing editors: keep a local copy of what was typed, and show the finance part of a
 * need only for finance categories. Served from /static so it runs under the CSP. */
(function () {
  "use strict";

  var SKIP = { csrf_token: true, save: true, save_submit: true };

  function fieldValues(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "hidden") return;
      if (el.tagName === "SELECT" && el.multiple) {
        out[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) out[el.name] = el.value;
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  }

  function fill(form, values) {
    Object.keys(values).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (!el || el.type === "hidden") return;
      var value = values[name];
      if (el.tagName === "SELECT" && el.multiple && Array.isArray(value)) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) >= 0; });
      } else if (typeof value === "string") {
        el.value = value;
      }
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function setUpAutosave(form) {
    var store = storage();
    if (!store) return;
    var key = "market-draft:" + form.getAttribute("data-autosave");
    var notice = document.querySelector("[data-autosave-notice]");
    var saved = store.getItem(key);
    var initial = JSON.stringify(fieldValues(form));
    if (saved && saved !== initial && notice) {
      notice.classList.remove("d-none");
      notice.querySelector("[data-autosave-restore]").addEventListener("click", function () {
        fill(form, JSON.parse(saved));
        notice.classList.add("d-none");
      });
      notice.querySelector("[data-autosave-discard]").addEventListener("click", function () {
        store.removeItem(key);
        notice.classList.add("d-none");
      });
    }
    var timer = null;
    function remember() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        try { store.setItem(key, JSON.stringify(fieldValues(form))); } catch (e) { /* quota: keep going */ }
      }, 400);
    }
    form.addEventListener("input", remember);
    form.addEventListener("change", remember);
  }

  function clearSaved() {
    var store = storage();
    if (!store) return;
    document.querySelectorAll("[data-autosave-clear]").forEach(function (el) {
      store.removeItem("market-draft:" + el.getAttribute("data-autosave-clear"));
    });
  }

  function setUpCategoryParts(form) {
    var select = form.querySelector("select[name=category]");
    var parts = form.querySelectorAll("[data-category-prefix]");
    if (!select || !parts.length) return;
    function update() {
      parts.forEach(function (part) {
        var prefix = part.getAttribute("data-category-prefix");
        part.classList.toggle("d-none", select.value.split(".")[0] !== prefix);
      });
    }
    select.addEventListener("change", update);
    update();
  }

  clearSaved();
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    setUpAutosave(form);
    setUpCategoryParts(form);
  });
})();

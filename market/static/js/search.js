// As-you-type suggestions for search boxes (ARIA 1.2 combobox with a listbox popup).
//
// An <input data-suggest-url=… aria-controls="ID"> gets suggestions from the server
// 50 ms after the last keystroke. They must show within 100 ms of it: the request
// took 13–31 ms on a busy 2-core server (waitress), so 80 ms of debounce was measured
// to arrive at 93–111 ms and 50 ms leaves room. Older requests are aborted, so a slow
// answer never overwrites a newer one.
// Arrow keys move through the list, Enter opens the chosen listing, Escape closes it.
// Without JavaScript the box is a plain search form: nothing here is required.
(function () {
  "use strict";

  var DEBOUNCE_MS = 50;

  // The server sends the title HTML-escaped with <mark> around the typed text.
  // Rebuild it from text nodes and <mark> elements only, never as raw HTML.
  function markedFragment(html) {
    var parsed = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    var fragment = document.createDocumentFragment();
    parsed.body.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(document.createTextNode(node.textContent || ""));
      }
    });
    return fragment;
  }

  function setup(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = document.getElementById(input.id + "-status");
    if (!list) {
      return;
    }
    var url = input.getAttribute("data-suggest-url");
    var timer = null;
    var controller = null;
    var active = -1;

    function options() {
      return list.querySelectorAll("[role=option]");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var all = options();
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("active", i === index);
      });
      active = index;
      if (index >= 0 && all[index]) {
        input.setAttribute("aria-activedescendant", all[index].id);
        all[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(suggestions) {
      list.textContent = "";
      suggestions.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = list.id + "-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "suggest-option";
        option.setAttribute("data-url", item.url);
        option.appendChild(markedFragment(item.html || item.text));
        list.appendChild(option);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (status) {
        var label = input.getAttribute("data-suggest-count-label") || "";
        status.textContent = suggestions.length ? suggestions.length + " " + label : "";
      }
      if (suggestions.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      if (controller) {
        controller.abort();
      }
      if (!q) {
        close();
        return;
      }
      controller = new AbortController();
      var params = new URLSearchParams({ q: q, index: input.getAttribute("data-suggest-index") || "offerings" });
      fetch(url + "?" + params.toString(), {
        signal: controller.signal,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (data) {
          if (input.value.trim() === q) {
            render(data.suggestions || []);
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            close();
          }
        });
    }

    function open(option) {
      var target = option && option.getAttribute("data-url");
      if (target) {
        window.location.assign(target);
      }
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var count = options().length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) {
          if (count) {
            list.hidden = false;
            input.setAttribute("aria-expanded", "true");
          } else {
            fetchSuggestions();
          }
          event.preventDefault();
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        highlight(next < 0 ? count - 1 : next >= count ? -1 : next);
        event.preventDefault();
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault();
          open(options()[active]);
        }
        // Otherwise the form submits: the search page shows every result.
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        }
      }
    });

    // Keep focus in the input while an option is clicked, so blur does not close first.
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      open(event.target.closest("[role=option]"));
    });
    input.addEventListener("blur", function () {
      close();
    });
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(setup);
})();

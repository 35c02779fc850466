// Progressive enhancement for the questionnaire. Everything works without it: the server decides
// which follow-up questions apply on every step. With it, follow-ups appear and disappear as the
// patient answers, the error summary takes focus, and the confirmation can be printed.
(function () {
  "use strict";

  // Three-valued logic, as the rules engine: true, false, or null for "unknown".
  function and(values) {
    if (values.some(function (v) { return v === false; })) return false;
    return values.some(function (v) { return v === null; }) ? null : true;
  }
  function or(values) {
    if (values.some(function (v) { return v === true; })) return true;
    return values.some(function (v) { return v === null; }) ? null : false;
  }

  // The current answer to a question on this page; undefined when it is not on this page.
  function answerOf(form, key) {
    var inputs = form.querySelectorAll('[name="' + key + '"]');
    if (!inputs.length) {
      return form.querySelector('[name^="' + key + '_"]') ? { date: true } : undefined;
    }
    var first = inputs[0];
    if (first.type === "radio") {
      var checked = form.querySelector('[name="' + key + '"]:checked');
      return checked ? checked.value : "";
    }
    if (first.type === "checkbox") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return i.value; });
    }
    return first.value.trim();
  }

  function blank(value) {
    return value === "" || (Array.isArray(value) && value.length === 0);
  }

  function evaluate(form, condition) {
    if (condition.all) return and(condition.all.map(function (c) { return evaluate(form, c); }));
    if (condition.any) return or(condition.any.map(function (c) { return evaluate(form, c); }));
    if (condition.not) {
      var inner = evaluate(form, condition.not);
      return inner === null ? null : !inner;
    }
    var value = answerOf(form, condition.q);
    if (value === undefined) return null; // answered on another step: the server decided
    if (value && value.date) {
      // Dates compare against the appointment date: leave those to the server (show the question).
      var parts = form.querySelectorAll('[name^="' + condition.q + '_"]');
      var empty = Array.prototype.every.call(parts, function (p) {
        return p.type === "checkbox" ? !p.checked : p.value.trim() === "";
      });
      if (condition.answered) return !empty;
      return empty ? false : null;
    }
    if (condition.answered) return !blank(value);
    if (blank(value)) return false;
    if ("is" in condition) return value === condition.is;
    if (condition.in) return condition.in.indexOf(value) !== -1;
    if (condition.any_of) return condition.any_of.some(function (c) { return value.indexOf(c) !== -1; });
    if (condition.all_of) return condition.all_of.every(function (c) { return value.indexOf(c) !== -1; });
    var number = Number(value);
    if (isNaN(number)) return false;
    if ("gt" in condition) return typeof condition.gt === "number" ? number > condition.gt : null;
    if ("gte" in condition) return typeof condition.gte === "number" ? number >= condition.gte : null;
    if ("lt" in condition) return typeof condition.lt === "number" ? number < condition.lt : null;
    if ("lte" in condition) return typeof condition.lte === "number" ? number <= condition.lte : null;
    if ("eq" in condition) return typeof condition.eq === "number" ? number === condition.eq : null;
    return null;
  }

  function followUps(form) {
    var items = [];
    form.querySelectorAll("[data-question]").forEach(function (wrapper) {
      var source = wrapper.querySelector("[data-show-if]");
      if (source) {
        items.push({ wrapper: wrapper, condition: JSON.parse(source.getAttribute("data-show-if")) });
      }
    });
    return items;
  }

  function update(form, items) {
    items.forEach(function (item) {
      var show = evaluate(form, item.condition) !== false;
      if (item.wrapper.hidden === !show) return;
      item.wrapper.hidden = !show;
      // Hidden questions are not sent; the server discards their answers anyway.
      item.wrapper.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !show;
      });
    });
  }

  document.querySelectorAll("form[data-questionnaire]").forEach(function (form) {
    var items = followUps(form);
    if (!items.length) return;
    update(form, items);
    form.addEventListener("change", function () { update(form, items); });
    form.addEventListener("input", function () { update(form, items); });
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();

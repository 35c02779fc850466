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

  var DATE_PARTS = ["_day", "_month", "_year", "_not_sure"];

  // Inputs of a question that count: a hidden follow-up's inputs are disabled and unanswered.
  function inputsOf(form, name) {
    return Array.prototype.filter.call(
      form.querySelectorAll('[name="' + name + '"]'),
      function (input) { return !input.disabled; }
    );
  }

  function dateInputsOf(form, key) {
    return DATE_PARTS.reduce(function (found, part) {
      return found.concat(inputsOf(form, key + part));
    }, []);
  }

  // The current answer to a question on this page; undefined when it is not on this page.
  function answerOf(form, key) {
    var inputs = inputsOf(form, key);
    if (!inputs.length) {
      if (form.querySelector('[name="' + key + '"]')) return ""; // on the page, but hidden
      var parts = form.querySelectorAll(DATE_PARTS.map(function (p) {
        return '[name="' + key + p + '"]';
      }).join(","));
      return parts.length ? { date: true } : undefined;
    }
    var first = inputs[0];
    if (first.type === "radio") {
      var checked = inputs.filter(function (i) { return i.checked; })[0];
      return checked ? checked.value : "";
    }
    if (first.type === "checkbox") {
      return inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
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
      var empty = dateInputsOf(form, condition.q).every(function (p) {
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

  // Hiding a follow-up can hide its own follow-ups, so repeat until nothing changes.
  function update(form, items) {
    for (var round = 0; round < items.length + 1; round++) {
      var changed = false;
      items.forEach(function (item) {
        var show = evaluate(form, item.condition) !== false;
        if (item.wrapper.hidden === !show) return;
        changed = true;
        item.wrapper.hidden = !show;
        // Hidden questions are not sent; the server discards their answers anyway.
        item.wrapper.querySelectorAll("input, select, textarea").forEach(function (input) {
          input.disabled = !show;
        });
      });
      if (!changed) return;
    }
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

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

  // Inputs of a question that count: a hidden follow-up's inputs are disabled and unanswered.
  function inputsOf(form, name) {
    return Array.prototype.filter.call(
      form.querySelectorAll('[name="' + name + '"]'),
      function (input) { return !input.disabled; }
    );
  }

  // The current answer to a choice, tick-box, number or text question on this page.
  function answerOf(form, key) {
    var inputs = inputsOf(form, key);
    if (!inputs.length) return "";
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

  var MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december"];

  function monthNumber(text) {
    var name = text.toLowerCase().replace(/\.+$/, "");
    for (var i = 0; i < MONTHS.length; i++) {
      if (name === MONTHS[i] || name === MONTHS[i].slice(0, 3)) return i + 1;
    }
    if (name === "sept") return 9;
    return /^\d{1,2}$/.test(text) ? Number(text) : 0;
  }

  function lastDay(year, month) {
    return new Date(Date.UTC(Number(year), month, 0)).getUTCDate();
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // A date's boxes read as the server reads them: "YYYY-MM-DD", "YYYY-MM" (when the question
  // takes the month and year), "not_sure", or null for no answer or one the server refuses.
  function typedDate(form, leaf) {
    var boxes = ["_day", "_month", "_year"].map(function (part) {
      var input = inputsOf(form, leaf.q + part)[0];
      return input ? input.value.trim() : "";
    });
    var day = boxes[0], month = boxes[1], year = boxes[2];
    var tick = inputsOf(form, leaf.q + "_not_sure")[0];
    if (tick && tick.checked) return day || month || year ? null : "not_sure";
    if (!month || !year || (!day && !leaf.months)) return null;
    var m = monthNumber(month);
    if (!/^\d{4}$/.test(year) || Number(year) < 1900 || m < 1 || m > 12) return null;
    if (!day) return year + "-" + pad(m);
    if (!/^\d{1,2}$/.test(day) || Number(day) < 1 || Number(day) > lastDay(year, m)) return null;
    return year + "-" + pad(m) + "-" + pad(Number(day));
  }

  // A date condition: the server sends the days that satisfy it ("days", null for an unbounded
  // end), so only the answer's own days are worked out here, as the rules engine reads them.
  function dateTruth(form, leaf) {
    var value = typedDate(form, leaf);
    if (value === null) return false;
    var today = leaf.today, first, last;
    if (value === "not_sure") {
      first = leaf.range === "future" ? today : null;
      last = leaf.range === "past" ? today : null;
    } else if (value.length === 7) {
      first = value + "-01";
      last = value + "-" + pad(lastDay(value.slice(0, 4), Number(value.slice(5))));
      // A month that includes today counts only its days in the question's range.
      if (leaf.range === "past" && first <= today && today < last) last = today;
      else if (leaf.range === "future" && first < today && today <= last) first = today;
    } else {
      first = last = value;
    }
    // A past event dated after today is still going on: the server sent what that means.
    if ("ongoing" in leaf && first !== null && first > today) return leaf.ongoing;
    var low = leaf.days[0], high = leaf.days[1];
    if ((high !== null && first !== null && first > high) ||
        (low !== null && last !== null && last < low)) return false;
    if ((low === null || (first !== null && first >= low)) &&
        (high === null || (last !== null && last <= high))) return true;
    return null;
  }

  // A follow-up's condition, with the answers of other steps already applied by the server:
  // true, false or null (unknown), or a condition on this page's answers.
  function evaluate(form, condition) {
    if (condition === true || condition === false || condition === null) return condition;
    if (condition.all) return and(condition.all.map(function (c) { return evaluate(form, c); }));
    if (condition.any) return or(condition.any.map(function (c) { return evaluate(form, c); }));
    if ("not" in condition) {
      var inner = evaluate(form, condition.not);
      return inner === null ? null : !inner;
    }
    if (condition.days) return dateTruth(form, condition);
    var value = answerOf(form, condition.q);
    if (blank(value)) return false;
    if (condition.answered) return true;
    if ("is" in condition) return value === condition.is;
    if (condition.in) return condition.in.indexOf(value) !== -1;
    if (condition.any_of) return condition.any_of.some(function (c) { return value.indexOf(c) !== -1; });
    if (condition.all_of) return condition.all_of.every(function (c) { return value.indexOf(c) !== -1; });
    var number = Number(value);
    if (value === "" || isNaN(number)) return false;
    if ("gt" in condition) return number > condition.gt;
    if ("gte" in condition) return number >= condition.gte;
    if ("lt" in condition) return number < condition.lt;
    if ("lte" in condition) return number <= condition.lte;
    if ("eq" in condition) return number === condition.eq;
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

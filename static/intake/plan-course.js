// The antiviral plan form's course in words, as its first and last days are typed: the words the
// page gives for a recorded plan (intake.review.plans.course), with the dates worked out from the
// treatment date, so that a practitioner sees the dates before saving.
(function () {
  "use strict";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var MINUS = "\u2212";

  function dayLabel(day) {
    if (day === 0) {
      return "the treatment day";
    }
    return "day " + (day > 0 ? "+" : MINUS) + Math.abs(day);
  }

  // The treatment date (ISO) moved by `offset` days, as the review page writes dates.
  function shortDate(iso, offset) {
    var parts = iso.split("-");
    var day = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2] + offset));
    return day.getUTCDate() + " " + MONTHS[day.getUTCMonth()] + " " + day.getUTCFullYear();
  }

  // The day typed in a box, or null unless it is a whole number within the box's range.
  function day(input) {
    var value = input.value.trim().replace(MINUS, "-");
    if (!/^[-+]?\d+$/.test(value)) {
      return null;
    }
    var number = parseInt(value, 10);
    return number >= Number(input.min) && number <= Number(input.max) ? number : null;
  }

  function words(first, last, treatment) {
    var days = last - first + 1;
    var length = days + " day" + (days !== 1 ? "s" : "");
    if (!treatment) {
      return "from " + dayLabel(first) + " for " + length + ", to " + dayLabel(last);
    }
    return (
      "from " + shortDate(treatment, first) + " (" + dayLabel(first) + ") for " + length +
      ", to " + shortDate(treatment, last) + " (" + dayLabel(last) + ")"
    );
  }

  document.querySelectorAll(".plan-course").forEach(function (output) {
    var id = output.id.replace("days-course-", "");
    var start = document.getElementById("start_day-" + id);
    var end = document.getElementById("end_day-" + id);
    if (!start || !end) {
      return;
    }
    function update() {
      var first = day(start);
      var last = day(end);
      if (first === null || last === null) {
        output.textContent = "";
      } else if (last < first) {
        output.textContent = "The last day cannot be before the first.";
      } else {
        output.textContent =
          "Course: " + words(first, last, output.getAttribute("data-treatment-date")) + ".";
      }
    }
    start.addEventListener("input", update);
    end.addEventListener("input", update);
  });
})();

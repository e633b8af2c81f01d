package contract

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var rateRE = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`)

// ValidSchedule accepts what an EventBridge rule accepts as a ScheduleExpression, so a bad
// schedule stops the synth instead of failing the deploy halfway: rate(1 minute), rate(N
// minutes), the same with hours and days (singular exactly when N is 1), and cron(…) with six
// fields — minutes, hours, day-of-month, month, day-of-week, year — of which exactly one of
// day-of-month and day-of-week is "?".
func ValidSchedule(expr string) error {
	const allowed = "want an EventBridge schedule: rate(1 hour), rate(N minutes|hours|days), or cron(minutes hours day-of-month month day-of-week year)"
	if strings.HasPrefix(expr, "rate(") {
		m := rateRE.FindStringSubmatch(expr)
		if m == nil {
			return fmt.Errorf("%s", allowed)
		}
		n, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil {
			return fmt.Errorf("%s: rate value %s is too large", allowed, m[1])
		}
		if singular := !strings.HasSuffix(m[2], "s"); singular != (n == 1) {
			return fmt.Errorf("%s: EventBridge wants the unit singular for 1 and plural otherwise (rate(1 hour), rate(2 hours))", allowed)
		}
		return nil
	}
	body, ok := strings.CutPrefix(expr, "cron(")
	if !ok || !strings.HasSuffix(body, ")") {
		return fmt.Errorf("%s", allowed)
	}
	fields := strings.Split(strings.TrimSuffix(body, ")"), " ")
	if len(fields) != len(cronFields) {
		return fmt.Errorf("%s: cron wants 6 fields separated by single spaces, got %d", allowed, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("%s: %s field %q: %v", allowed, cronFields[i].name, f, err)
		}
	}
	if (fields[2] == "?") == (fields[4] == "?") {
		return fmt.Errorf("%s: exactly one of day-of-month and day-of-week must be ?", allowed)
	}
	return nil
}

// cronField is one field of an EventBridge cron expression and the wildcards it takes
// (EventBridge's table: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
type cronField struct {
	name     string
	min, max int
	names    []string // JAN..DEC or SUN..SAT, for values min, min+1, ...
	question bool     // "?" allowed (day-of-month, day-of-week)
	step     bool     // "/" allowed
	domL     bool     // L, LW, nW (day-of-month)
	dowL     bool     // L, nL, n#k (day-of-week)
}

var cronFields = []cronField{
	{name: "minutes", min: 0, max: 59, step: true},
	{name: "hours", min: 0, max: 23, step: true},
	{name: "day-of-month", min: 1, max: 31, question: true, step: true, domL: true},
	{name: "month", min: 1, max: 12, step: true, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, question: true, dowL: true, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
	{name: "year", min: 1970, max: 2199, step: true},
}

func (c cronField) check(f string) error {
	if f == "" {
		return fmt.Errorf("empty")
	}
	if f == "?" {
		if !c.question {
			return fmt.Errorf("? is only allowed in day-of-month and day-of-week")
		}
		return nil
	}
	for _, part := range strings.Split(f, ",") {
		if err := c.checkPart(part); err != nil {
			return err
		}
	}
	return nil
}

func (c cronField) checkPart(p string) error {
	switch {
	case c.domL && (p == "L" || p == "LW"):
		return nil
	case c.domL && strings.HasSuffix(p, "W"):
		return c.value(strings.TrimSuffix(p, "W"))
	case c.dowL && p == "L":
		return nil
	case c.dowL && strings.HasSuffix(p, "L"):
		return c.value(strings.TrimSuffix(p, "L"))
	case c.dowL && strings.Contains(p, "#"):
		day, nth, _ := strings.Cut(p, "#")
		if err := c.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("the week after # must be 1 to 5, got %q", nth)
		}
		return nil
	}
	base, step, hasStep := strings.Cut(p, "/")
	if hasStep {
		if !c.step {
			return fmt.Errorf("/ is not allowed here")
		}
		if n, err := strconv.Atoi(step); err != nil || n < 1 || n > c.max {
			return fmt.Errorf("step %q must be a whole number from 1 to %d", step, c.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	if err := c.value(lo); err != nil {
		return err
	}
	if isRange {
		return c.value(hi)
	}
	return nil
}

// value checks one number or name of the field against its range.
func (c cronField) value(s string) error {
	for _, n := range c.names {
		if strings.EqualFold(s, n) {
			return nil
		}
	}
	n, err := strconv.Atoi(s)
	if err == nil && n >= c.min && n <= c.max {
		return nil
	}
	if len(c.names) > 0 {
		return fmt.Errorf("%q is not %d-%d or %s-%s", s, c.min, c.max, c.names[0], c.names[len(c.names)-1])
	}
	return fmt.Errorf("%q is not a whole number from %d to %d", s, c.min, c.max)
}

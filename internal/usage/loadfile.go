package usage

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A load file is a table's consumption written down, priced with no AWS call (verify cost
// --load): a CSV of one row a minute, or what `aws cloudwatch get-metric-data` prints.
const (
	// LoadHeader is a load CSV's first line.
	LoadHeader = "timestamp,read_units,write_units"
	// MaxLoadBytes bounds what is read of a load file: 15 days of minutes as the CLI's indented
	// JSON are under 3 MB.
	MaxLoadBytes = 16 << 20
	// MaxLoadMinutes is 15 days of minutes, as long as CloudWatch keeps them.
	MaxLoadMinutes = MinuteDataDays * 24 * 60
	// MaxLoadUnits bounds one minute's units: 40,000 units a second for a minute is 2.4 million;
	// a billion is a typo, not a load.
	MaxLoadUnits = 1e9
)

// Load is a table's consumption read from a file.
type Load struct {
	// Start is its first minute, UTC.
	Start time.Time
	// Minutes are its reads and writes, minute by minute (no capacity: the file has none).
	Minutes Minutes
	// Format is what the file was: "csv" or "get-metric-data".
	Format string
}

// Window is the stretch of minutes the load covers.
func (l Load) Window() Window {
	return Window{Start: l.Start, End: l.Start.Add(time.Duration(len(l.Minutes.Read)) * Period)}
}

// LoadError is a load file refused: the line it is about (0: the file as a whole) and why, with
// what is allowed.
type LoadError struct {
	Line int
	Msg  string
}

func (e *LoadError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func refuse(line int, format string, a ...any) error {
	return &LoadError{Line: line, Msg: fmt.Sprintf(format, a...)}
}

// allowedLoad is what a load file may be, for the messages that refuse one.
const allowedLoad = "want a CSV whose header is " + LoadHeader + " with one row a minute (RFC 3339 UTC, units consumed in that minute), or the JSON `aws cloudwatch get-metric-data` prints for ConsumedReadCapacityUnits and ConsumedWriteCapacityUnits"

// ReadLoadFile reads and parses a load file within ctx: a regular file of at most MaxLoadBytes.
// A FIFO, a device (/dev/zero), a directory are refused before anything is read from them: the
// file is opened without blocking and looked at, so a pipe nobody writes never hangs the
// command, and a device that never ends is never read.
func ReadLoadFile(ctx context.Context, path string) (Load, error) {
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		body, err := readRegular(path)
		done <- result{body, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return Load{}, fmt.Errorf("not read within the timeout: %w", ctx.Err())
	}
	if r.err != nil {
		return Load{}, r.err
	}
	return ParseLoad(r.body)
}

func readRegular(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO without a writer would otherwise wait for one.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &LoadError{Msg: fmt.Sprintf("not a regular file (%s): %s", kind(st.Mode()), allowedLoad)}
	}
	if st.Size() > MaxLoadBytes {
		return nil, &LoadError{Msg: fmt.Sprintf("%d bytes: at most %d (15 days of minutes are far less)", st.Size(), MaxLoadBytes)}
	}
	body, err := io.ReadAll(io.LimitReader(f, MaxLoadBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxLoadBytes { // it grew as it was read
		return nil, &LoadError{Msg: fmt.Sprintf("more than %d bytes: at most %d", MaxLoadBytes, MaxLoadBytes)}
	}
	return body, nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// ParseLoad reads a load: JSON when it starts with {, else CSV.
func ParseLoad(body []byte) (Load, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	switch {
	case len(trimmed) == 0:
		return Load{}, &LoadError{Msg: "empty: " + allowedLoad}
	case trimmed[0] == '{':
		return parseMetricData(body)
	}
	return parseCSV(body)
}

// plainUnits is a decimal number as people and the CLI write units: digits, a fraction, an
// exponent. Go's float syntax also takes Inf, NaN, hex and 1_000, which no load is written as.
var plainUnits = regexp.MustCompile(`^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$`)

func parseUnits(s string) (float64, bool) {
	if !plainUnits.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && v <= MaxLoadUnits
}

const allowedUnits = "want a non-negative decimal number of units consumed in the minute, at most 1e9"

// parseMinute reads a timestamp that must fall on a whole minute; utc also requires it in UTC.
func parseMinute(s string, utc bool) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Truncate(time.Minute) != t {
		return time.Time{}, false
	}
	if _, off := t.Zone(); utc && off != 0 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func parseCSV(body []byte) (Load, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	r.FieldsPerRecord = -1 // counted here, to say what is allowed
	r.ReuseRecord = true
	l := Load{Format: "csv"}
	var prev time.Time
	prevLine := 0
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Load{}, refuse(pe.StartLine, "not CSV (%v): %s", pe.Err, allowedLoad)
		}
		if err != nil {
			return Load{}, err
		}
		line, _ := r.FieldPos(0)
		if first {
			if strings.Join(rec, ",") != LoadHeader {
				return Load{}, refuse(line, "header %q: %s", strings.Join(rec, ","), allowedLoad)
			}
			continue
		}
		if len(rec) != 3 {
			return Load{}, refuse(line, "%d fields: want 3, %s", len(rec), LoadHeader)
		}
		at, ok := parseMinute(rec[0], true)
		if !ok {
			return Load{}, refuse(line, "timestamp %q: want RFC 3339 in UTC on a whole minute, such as 2026-12-01T09:30:00Z", rec[0])
		}
		switch n := len(l.Minutes.Read); {
		case n == 0:
			l.Start = at
		case at.Equal(prev):
			return Load{}, refuse(line, "%s is the minute of line %d again: want one row a minute", rec[0], prevLine)
		case at.Before(prev):
			return Load{}, refuse(line, "%s comes before line %d's %s: want the rows in order, one a minute", rec[0], prevLine, prev.Format(time.RFC3339))
		case at.Sub(prev) != Period:
			return Load{}, refuse(line, "%s leaves a gap of %d minutes after line %d's %s: want one row a minute (0,0 for a minute without requests)", rec[0], int(at.Sub(prev)/Period)-1, prevLine, prev.Format(time.RFC3339))
		case n >= MaxLoadMinutes:
			return Load{}, refuse(line, "more than 15 days of minutes (%d rows): CloudWatch keeps one-minute data 15 days, and the advice reads no more", MaxLoadMinutes)
		}
		reads, ok := parseUnits(rec[1])
		if !ok {
			return Load{}, refuse(line, "read_units %q: %s", rec[1], allowedUnits)
		}
		writes, ok := parseUnits(rec[2])
		if !ok {
			return Load{}, refuse(line, "write_units %q: %s", rec[2], allowedUnits)
		}
		l.Minutes.Read = append(l.Minutes.Read, reads)
		l.Minutes.Write = append(l.Minutes.Write, writes)
		prev, prevLine = at, line
	}
	if len(l.Minutes.Read) == 0 {
		return Load{}, refuse(0, "no rows after the header: want one row a minute")
	}
	l.Minutes.sum()
	return l, nil
}

// sum fills the sums, peaks and datapoints from the minutes.
func (m *Minutes) sum() {
	m.Consumed = Consumed{}
	for i := range m.Read {
		m.ReadUnits += m.Read[i]
		m.WriteUnits += m.Write[i]
		m.ReadPeak = max(m.ReadPeak, m.Read[i]/Period.Seconds())
		m.WritePeak = max(m.WritePeak, m.Write[i]/Period.Seconds())
		if m.Read[i] > 0 {
			m.Datapoints++
		}
		if m.Write[i] > 0 {
			m.Datapoints++
		}
	}
}

// series is one result of get-metric-data: its datapoints and the lines they are on.
type series struct {
	label  string
	line   int
	times  []time.Time
	values []float64
	lines  []int
}

// parseMetricData reads what `aws cloudwatch get-metric-data` prints: the results labelled
// ConsumedReadCapacityUnits and ConsumedWriteCapacityUnits (the CLI's label is the metric's name
// unless the query gave one), one-minute Sums. CloudWatch publishes no datapoint for a minute
// without requests, so a minute missing between two is zero; the load runs from the first
// datapoint of either to the last.
func parseMetricData(body []byte) (Load, error) {
	p := jsonParser{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	p.dec.UseNumber()
	results, err := p.document()
	if err != nil {
		return Load{}, err
	}
	byLabel := map[string]*series{}
	for i := range results {
		s := &results[i]
		if s.label != metrics[0] && s.label != metrics[1] {
			continue
		}
		if o := byLabel[s.label]; o != nil {
			return Load{}, refuse(s.line, "a second result labelled %s (the first is on line %d): want one for reads and one for writes", s.label, o.line)
		}
		byLabel[s.label] = s
	}
	for _, m := range metrics {
		if byLabel[m] == nil {
			return Load{}, refuse(0, "no result labelled %s: want one labelled ConsumedReadCapacityUnits and one ConsumedWriteCapacityUnits (their metric names, the CLI's labels unless the query sets one), period 60, statistic Sum", m)
		}
	}
	var first, last time.Time
	for _, m := range metrics {
		s := byLabel[m]
		seen := map[time.Time]int{}
		for j, at := range s.times {
			if l, dup := seen[at]; dup {
				return Load{}, refuse(s.lines[j], "%s has the minute %s twice (line %d too): want one datapoint a minute", m, at.Format(time.RFC3339), l)
			}
			seen[at] = s.lines[j]
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
		}
	}
	if first.IsZero() {
		return Load{}, refuse(0, "no datapoints in ConsumedReadCapacityUnits nor ConsumedWriteCapacityUnits: nothing to price")
	}
	n := int(last.Sub(first)/Period) + 1
	if n > MaxLoadMinutes {
		return Load{}, refuse(0, "%s to %s is more than 15 days of minutes (%d): CloudWatch keeps one-minute data 15 days, and the advice reads no more", first.Format(time.RFC3339), last.Format(time.RFC3339), MaxLoadMinutes)
	}
	if err := onePeriod(byLabel); err != nil {
		return Load{}, err
	}
	l := Load{Start: first, Format: "get-metric-data"}
	l.Minutes.Read, l.Minutes.Write = make([]float64, n), make([]float64, n)
	for k, m := range metrics {
		into := [2][]float64{l.Minutes.Read, l.Minutes.Write}[k]
		s := byLabel[m]
		for j, at := range s.times {
			into[int(at.Sub(first)/Period)] = s.values[j]
		}
	}
	l.Minutes.sum()
	return l, nil
}

// onePeriod refuses data of a coarser period than a minute (--period 300 would read 5 minutes'
// Sums as one minute's): when every step between datapoints is a multiple of the same number of
// minutes, over 10 steps at least, that is the period.
func onePeriod(byLabel map[string]*series) error {
	var all []time.Time
	for _, s := range byLabel {
		all = append(all, s.times...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	g, steps := int64(0), 0
	for i := 1; i < len(all); i++ {
		if d := int64(all[i].Sub(all[i-1]) / Period); d > 0 {
			g, steps = gcd(g, d), steps+1
		}
	}
	if steps >= 10 && g > 1 {
		return refuse(0, "every datapoint is a multiple of %d minutes from the others: want one-minute data (get-metric-data with period 60); a table used only every %d minutes exactly can be written as CSV", g, g)
	}
	return nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// jsonParser walks get-metric-data's JSON token by token, to name the line of what it refuses.
type jsonParser struct {
	body     []byte
	dec      *json.Decoder
	newlines []int
}

func (p *jsonParser) line(off int64) int {
	if p.newlines == nil {
		for i, b := range p.body {
			if b == '\n' {
				p.newlines = append(p.newlines, i)
			}
		}
		p.newlines = append(p.newlines, len(p.body))
	}
	return 1 + sort.SearchInts(p.newlines, int(off))
}

func (p *jsonParser) here() int { return p.line(p.dec.InputOffset()) }

func (p *jsonParser) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return refuse(p.line(se.Offset), "not JSON (%v): %s", se, allowedLoad)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return refuse(p.here(), "the JSON ends early: %s", allowedLoad)
	}
	return refuse(p.here(), "not JSON (%v): %s", err, allowedLoad)
}

func (p *jsonParser) delim(want json.Delim, what string) error {
	t, err := p.dec.Token()
	if err != nil {
		return p.syntax(err)
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return refuse(p.here(), "%s: want %q, found %v", what, string(want), t)
	}
	return nil
}

func (p *jsonParser) key() (string, error) {
	t, err := p.dec.Token()
	if err != nil {
		return "", p.syntax(err)
	}
	k, _ := t.(string)
	return k, nil
}

func (p *jsonParser) skip() error {
	var v json.RawMessage
	if err := p.dec.Decode(&v); err != nil {
		return p.syntax(err)
	}
	return nil
}

func (p *jsonParser) document() ([]series, error) {
	if err := p.delim('{', "the document"); err != nil {
		return nil, err
	}
	var results []series
	found := false
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if k != "MetricDataResults" {
			if err := p.skip(); err != nil {
				return nil, err
			}
			continue
		}
		found = true
		if err := p.delim('[', "MetricDataResults"); err != nil {
			return nil, err
		}
		for p.dec.More() {
			s, err := p.result()
			if err != nil {
				return nil, err
			}
			results = append(results, s)
		}
		if err := p.delim(']', "MetricDataResults"); err != nil {
			return nil, err
		}
	}
	if err := p.delim('}', "the document"); err != nil {
		return nil, err
	}
	if !found {
		return nil, refuse(0, "JSON without MetricDataResults: %s", allowedLoad)
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, refuse(p.here(), "more after the JSON document: %s", allowedLoad)
	}
	return results, nil
}

func (p *jsonParser) result() (series, error) {
	s := series{line: p.here()}
	if err := p.delim('{', "a result of MetricDataResults"); err != nil {
		return s, err
	}
	s.line = p.here()
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return s, err
		}
		switch k {
		case "Label", "StatusCode":
			t, err := p.dec.Token()
			if err != nil {
				return s, p.syntax(err)
			}
			v, ok := t.(string)
			if !ok {
				return s, refuse(p.here(), "%s: want a string", k)
			}
			if k == "Label" {
				s.label = v
			} else if v != "Complete" {
				return s, refuse(p.here(), "StatusCode %q: want Complete (let the CLI read every page)", v)
			}
		case "Timestamps", "Values":
			if err := p.array(&s, k); err != nil {
				return s, err
			}
		default:
			if err := p.skip(); err != nil {
				return s, err
			}
		}
	}
	if err := p.delim('}', "a result of MetricDataResults"); err != nil {
		return s, err
	}
	if len(s.times) != len(s.values) {
		return s, refuse(s.line, "%s has %d timestamps and %d values: want one value a timestamp", s.label, len(s.times), len(s.values))
	}
	return s, nil
}

func (p *jsonParser) array(s *series, k string) error {
	if err := p.delim('[', k); err != nil {
		return err
	}
	for i := 0; p.dec.More(); i++ {
		t, err := p.dec.Token()
		if err != nil {
			return p.syntax(err)
		}
		line := p.here()
		switch k {
		case "Timestamps":
			v, _ := t.(string)
			at, ok := parseMinute(v, false)
			if !ok {
				return refuse(line, "Timestamps[%d] %v: want an ISO 8601 time on a whole minute, such as 2026-12-01T09:30:00+00:00", i, t)
			}
			s.times, s.lines = append(s.times, at), append(s.lines, line)
		case "Values":
			n, ok := t.(json.Number)
			v, good := parseUnits(string(n))
			if !ok || !good || math.IsNaN(v) {
				return refuse(line, "Values[%d] %v: %s", i, t, allowedUnits)
			}
			s.values = append(s.values, v)
		}
	}
	return p.delim(']', k)
}

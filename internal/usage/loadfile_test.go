package usage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func csvOf(rows ...string) string { return LoadHeader + "\n" + strings.Join(rows, "\n") + "\n" }

func TestParseLoadReadsCSVMinuteByMinute(t *testing.T) {
	l, err := ParseLoad([]byte(csvOf("2026-12-01T09:30:00Z,120,6", "2026-12-01T09:31:00Z,0,0", "2026-12-01T09:32:00Z,1.5e2,60")))
	if err != nil {
		t.Fatal(err)
	}
	m := l.Minutes
	if l.Format != "csv" || !l.Start.Equal(time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)) || len(m.Read) != 3 ||
		m.Read[2] != 150 || m.ReadUnits != 270 || m.ReadPeak != 2.5 || m.WritePeak != 1 || m.Datapoints != 4 {
		t.Fatalf("%+v", l)
	}
	if w := l.Window(); w.End.Sub(w.Start) != 3*time.Minute {
		t.Fatalf("window %v", w)
	}
	// CRLF line ends and a byte-order mark are how spreadsheets write CSV.
	if _, err := ParseLoad([]byte("\ufeff" + strings.ReplaceAll(csvOf("2026-12-01T09:30:00Z,1,1"), "\n", "\r\n"))); err != nil {
		t.Fatalf("CRLF and BOM: %v", err)
	}
}

// Every bad load is refused naming its line and what is allowed, before anything is priced.
func TestParseLoadRefusesBadInputNamingTheLine(t *testing.T) {
	var long strings.Builder
	long.WriteString(LoadHeader + "\n")
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range MaxLoadMinutes + 1 {
		fmt.Fprintf(&long, "%s,1,1\n", start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	for _, tc := range []struct {
		name, body string
		line       int
		want       string
	}{
		{"empty", "", 0, "empty"},
		{"blank lines only", "\n \n", 0, "empty"},
		{"no header", "2026-12-01T09:30:00Z,1,1\n", 1, "header"},
		{"another header", "time,reads,writes\n2026-12-01T09:30:00Z,1,1\n", 1, "timestamp,read_units,write_units"},
		{"header only", LoadHeader + "\n", 0, "no rows"},
		{"a gap", csvOf("2026-12-01T09:30:00Z,1,1", "2026-12-01T09:33:00Z,1,1"), 3, "gap of 2 minutes after line 2"},
		{"a duplicate minute", csvOf("2026-12-01T09:30:00Z,1,1", "2026-12-01T09:30:00Z,1,1"), 3, "the minute of line 2 again"},
		{"out of order", csvOf("2026-12-01T09:30:00Z,1,1", "2026-12-01T09:29:00Z,1,1"), 3, "before line 2"},
		{"negative units", csvOf("2026-12-01T09:30:00Z,-1,1"), 2, `read_units "-1": want a non-negative decimal`},
		{"non-numeric units", csvOf("2026-12-01T09:30:00Z,1,lots"), 2, `write_units "lots"`},
		{"NaN", csvOf("2026-12-01T09:30:00Z,NaN,1"), 2, `read_units "NaN"`},
		{"Inf", csvOf("2026-12-01T09:30:00Z,1,Inf"), 2, `write_units "Inf"`},
		{"a huge number", csvOf("2026-12-01T09:30:00Z,1e300,1"), 2, "at most 1e9"},
		{"not UTC", csvOf("2026-12-01T09:30:00+02:00,1,1"), 2, "in UTC"},
		{"not a whole minute", csvOf("2026-12-01T09:30:15Z,1,1"), 2, "whole minute"},
		{"not a time", csvOf("yesterday,1,1"), 2, `timestamp "yesterday"`},
		{"too few fields", csvOf("2026-12-01T09:30:00Z,1"), 2, "2 fields: want 3"},
		{"a quote left open", csvOf(`"2026-12-01T09:30:00Z,1,1`), 2, "not CSV"},
		{"more than 15 days", long.String(), MaxLoadMinutes + 2, "more than 15 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLoad([]byte(tc.body))
			var le *LoadError
			if !errors.As(err, &le) || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want line %d saying %q", err, tc.line, tc.want)
			}
		})
	}
}

// metricData is what `aws cloudwatch get-metric-data --output json` prints: indented, newest
// first (the CLI's default scan order), labels the metrics' names.
func metricData(reads, writes map[string]float64) string {
	result := func(id, label string, points map[string]float64) string {
		var ts, vs []string
		for at, v := range points {
			ts = append(ts, fmt.Sprintf("\n                %q", at))
			vs = append(vs, fmt.Sprintf("\n                %v", v))
		}
		return fmt.Sprintf(`
        {
            "Id": %q,
            "Label": %q,
            "Timestamps": [%s
            ],
            "Values": [%s
            ],
            "StatusCode": "Complete"
        }`, id, label, strings.Join(ts, ","), strings.Join(vs, ","))
	}
	return fmt.Sprintf(`{
    "MetricDataResults": [%s,%s
    ],
    "Messages": []
}
`, result("r", "ConsumedReadCapacityUnits", reads), result("w", "ConsumedWriteCapacityUnits", writes))
}

func TestParseLoadReadsGetMetricDataJSON(t *testing.T) {
	body := metricData(
		map[string]float64{"2026-12-01T09:32:00+00:00": 120, "2026-12-01T09:30:00+00:00": 60},
		map[string]float64{"2026-12-01T09:34:00+00:00": 30})
	l, err := ParseLoad([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	m := l.Minutes
	// From the first datapoint (09:30) to the last (09:34); the minutes between without one
	// had no requests.
	if l.Format != "get-metric-data" || !l.Start.Equal(time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)) || len(m.Read) != 5 ||
		m.Read[0] != 60 || m.Read[1] != 0 || m.Read[2] != 120 || m.Write[4] != 30 || m.ReadPeak != 2 {
		t.Fatalf("%+v", l)
	}
}

func TestParseLoadRefusesBadJSONNamingTheLine(t *testing.T) {
	ok := map[string]float64{"2026-12-01T09:30:00+00:00": 1}
	good := metricData(ok, ok)
	lineOf := func(body, s string) int { return strings.Count(body[:strings.Index(body, s)], "\n") + 1 }
	every5 := map[string]float64{}
	for i := range 12 {
		every5[time.Date(2026, 12, 1, 9, 5*i, 0, 0, time.UTC).Format(time.RFC3339)] = 1
	}
	for _, tc := range []struct {
		name, body string
		line       int
		want       string
	}{
		{"cut short", good[:len(good)/2], -1, "ends early"},
		{"no results", `{"Messages": []}`, 0, "without MetricDataResults"},
		{"reads missing", strings.Replace(good, `"ConsumedReadCapacityUnits"`, `"Reads"`, 1), 0, "no result labelled ConsumedReadCapacityUnits"},
		{"twice", strings.Replace(good, `"ConsumedWriteCapacityUnits"`, `"ConsumedReadCapacityUnits"`, 1), -1, "a second result labelled ConsumedReadCapacityUnits"},
		{"negative", metricData(map[string]float64{"2026-12-01T09:30:00+00:00": -5}, ok), -1, "Values[0] -5"},
		{"a string value", strings.Replace(good, "\n                1\n", "\n                \"1\"\n", 1), -1, `Values[0] 1: want a non-negative`},
		{"not a minute", metricData(map[string]float64{"2026-12-01T09:30:30+00:00": 1}, ok), -1, "whole minute"},
		{"partial", strings.Replace(good, `"Complete"`, `"PartialData"`, 1), -1, `StatusCode "PartialData"`},
		{"five-minute data", metricData(every5, every5), 0, "multiple of 5 minutes"},
		{"more than 15 days", metricData(map[string]float64{"2026-12-01T00:00:00Z": 1}, map[string]float64{"2026-12-16T00:00:00Z": 1}), 0, "more than 15 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLoad([]byte(tc.body))
			var le *LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) || tc.line >= 0 && le.Line != tc.line || tc.line < 0 && le.Line == 0 {
				t.Fatalf("got %v (line %d), want %q on a line", err, lineOfErr(err), tc.want)
			}
		})
	}
	// The line is the datapoint's own.
	bad := metricData(map[string]float64{"2026-12-01T09:30:00+00:00": -5}, ok)
	_, err := ParseLoad([]byte(bad))
	var le *LoadError
	if !errors.As(err, &le) || le.Line != lineOf(bad, "-5") {
		t.Fatalf("line %d, want %d: %v", lineOfErr(err), lineOf(bad, "-5"), err)
	}
	// A duplicate minute names both lines.
	dup := strings.Replace(metricData(map[string]float64{"2026-12-01T09:30:00+00:00": 1, "2026-12-01T09:31:00+00:00": 2}, ok), "09:31:00", "09:30:00", 1)
	if _, err := ParseLoad([]byte(dup)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("a duplicate minute: %v", err)
	}
}

func lineOfErr(err error) int {
	var le *LoadError
	if errors.As(err, &le) {
		return le.Line
	}
	return -1
}

// A FIFO nobody writes, /dev/zero and a 100 MB file are refused without being read: the command
// neither hangs nor fills memory.
func TestReadLoadFileRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "load.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.csv")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil { // sparse: 100 MB without writing them
		t.Fatal(err)
	}
	f.Close()
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte(csvOf("2026-12-01T09:30:00Z,1,1")), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "not a regular file (a FIFO)"},
		{"/dev/zero", "not a regular file (a device)"},
		{dir, "not a regular file (a directory)"},
		{big, "104857600 bytes: at most"},
		{filepath.Join(dir, "missing.csv"), "no such file"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		start := time.Now()
		_, err := ReadLoadFile(ctx, tc.path)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %v after %v, want %q at once", tc.path, err, time.Since(start), tc.want)
		}
	}
	// A symlink to a good file is the file.
	if l, err := ReadLoadFile(t.Context(), link); err != nil || len(l.Minutes.Read) != 1 {
		t.Fatalf("symlink: %v", err)
	}
}

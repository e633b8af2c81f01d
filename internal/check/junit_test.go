package check

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/joshdk/go-junit"
)

// The rendering alone, on reports built by hand: which outcome becomes which JUnit element, and
// text no XML 1.0 parser accepts raw. A real run writing the file is verify's
// TestCheckJUnitOnDynamoDBLocal.
func TestWriteJUnit(t *testing.T) {
	hostile := "endpoint said \x1b[31mNO\x1b[0m\x00 <&\"'> \xff \uFFFE\nsecond line"
	for _, tc := range []struct {
		name                            string
		rep                             Report
		failures, errs, skipped, passed int
		want                            map[string]string // case name → what its element says
	}{
		{
			name: "a drifted table fails conformance; read-only skips the writing checks",
			rep: Report{Table: "wallet-t", Region: "us-east-1", RunID: "r1", ReadOnly: true, Checks: []Result{
				{Name: Discover, Passed: true, Duration: 5 * time.Millisecond},
				{Name: Active, Passed: true},
				{Name: Conformance, Detail: "ProvisionedThroughput.ReadCapacityUnits declared 1, live 2", Duration: 1500 * time.Millisecond},
			}},
			failures: 1, skipped: 6, passed: 2,
			want: map[string]string{Conformance: "failure:check failed:ProvisionedThroughput.ReadCapacityUnits declared 1, live 2",
				Roundtrip: "skipped:not run:not run: --read-only writes nothing", Cleanup: "skipped:not run:not run: --read-only"},
		},
		{
			name: "a stopped check is an error, the rest not run",
			rep: Report{Stack: "Wallet-dev", Table: "wallet-t", Region: "us-east-1", Stopped: Interrupted, stoppedIn: Roundtrip, Checks: []Result{
				{Name: Discover, Passed: true}, {Name: Active, Passed: true}, {Name: Conformance, Passed: true},
				{Name: Roundtrip, Stopped: Interrupted, Detail: "interrupted: context canceled"},
				{Name: Cleanup, Passed: true},
			}},
			errs: 1, skipped: 4, passed: 4,
			want: map[string]string{Roundtrip: "error:interrupted:interrupted: context canceled",
				Transfer: "skipped:not run:not run: the run was stopped (interrupted) during roundtrip"},
		},
		{
			name: "a refused run says why its writing checks did not run",
			rep: Report{Table: "wallet-t", Refused: "needs 100044 write units", Checks: []Result{
				{Name: Discover, Passed: true}, {Name: Active, Passed: true}, {Name: Conformance, Passed: true},
			}},
			skipped: 6, passed: 3,
			want: map[string]string{NoOverdraft: "skipped:not run:not run: needs 100044 write units"},
		},
		{
			name:     "a missing table fails discover",
			rep:      Report{Table: "wallet-nope", Checks: []Result{{Name: Discover, Detail: "table wallet-nope not found"}}},
			failures: 1, skipped: 8,
			want: map[string]string{Active: "skipped:not run:not run: the run ended after discover failed"},
		},
		{
			name:     "control characters and invalid UTF-8 are escaped, the text kept",
			rep:      Report{Table: "wallet-t", Checks: []Result{{Name: Discover, Detail: hostile}}},
			failures: 1, skipped: 8,
			want: map[string]string{Discover: `failure:check failed:endpoint said \x1b[31mNO\x1b[0m\x00 <&"'> ` + "\uFFFD" + ` \ufffe` + "\nsecond line"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tc.rep.WriteJUnit(&out); err != nil {
				t.Fatal(err)
			}
			doc := strictParse(t, out.Bytes())
			s := doc.Suites[0]
			if len(doc.Suites) != 1 || s.Tests != len(plan()) || len(s.Cases) != len(plan()) || s.Failures != tc.failures ||
				s.Errors != tc.errs || s.Skipped != tc.skipped || doc.Tests != s.Tests || doc.Failures != s.Failures {
				t.Fatalf("counts: suites %d, tests %d (%d cases), failures %d, errors %d, skipped %d\n%s",
					len(doc.Suites), s.Tests, len(s.Cases), s.Failures, s.Errors, s.Skipped, out.String())
			}
			for i, c := range s.Cases {
				if c.Name != plan()[i] {
					t.Errorf("case %d is %s, want %s", i, c.Name, plan()[i])
				}
			}
			for name, want := range tc.want {
				if got := outcome(s, name); !strings.HasPrefix(got, want) {
					t.Errorf("%s: %q, want it to start %q", name, got, want)
				}
			}
			// The JSON report rides along, whole.
			var js map[string]any
			if err := json.Unmarshal([]byte(s.SystemOut), &js); err != nil || js["table"] != tc.rep.Table {
				t.Fatalf("system-out is not the JSON report (%v): %q", err, s.SystemOut)
			}
			// Another parser reads the same file: the one CI reporters written in Go use.
			suites, err := junit.Ingest(out.Bytes())
			if err != nil || len(suites) != 1 {
				t.Fatalf("go-junit: %v, %d suites", err, len(suites))
			}
			tot := suites[0].Totals
			if tot.Tests != len(plan()) || tot.Failed != tc.failures || tot.Error != tc.errs || tot.Skipped != tc.skipped || tot.Passed != tc.passed {
				t.Fatalf("go-junit totals %+v", tot)
			}
		})
	}
}

// A case's times are the checks' own; the suite's their sum.
func TestWriteJUnitTimes(t *testing.T) {
	rep := Report{Table: "wallet-t", Checks: []Result{{Name: Discover, Passed: true, Duration: 1234 * time.Millisecond}, {Name: Active, Passed: true, Duration: 766 * time.Millisecond}}}
	var out bytes.Buffer
	if err := rep.WriteJUnit(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `<testcase name="discover" classname="verify.wallet-t" time="1.234">`) ||
		!strings.Contains(out.String(), `<testsuite name="verify wallet-t ()" tests="9" failures="0" errors="0" skipped="7" time="2.000">`) {
		t.Fatal(out.String())
	}
	doc := strictParse(t, out.Bytes())
	if got := time.Duration(doc.Suites[0].Cases[0].Time); got != 1234*time.Millisecond {
		t.Fatalf("discover time read back as %s", got)
	}
}

// strictParse decodes every token strictly (any character XML 1.0 forbids is an error), then
// unmarshals into the schema.
func strictParse(t *testing.T, b []byte) JUnitSuites {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("not well-formed XML: %v\n%q", err, b)
		}
	}
	var doc JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return doc
}

// outcome is "kind:type:text" for a case's failure, error or skipped element, or "passed".
func outcome(s JUnitSuite, name string) string {
	for _, c := range s.Cases {
		if c.Name != name {
			continue
		}
		for kind, r := range map[string]*JUnitResult{"failure": c.Failure, "error": c.Error, "skipped": c.Skipped} {
			if r != nil {
				return kind + ":" + r.Type + ":" + r.Text
			}
		}
		return "passed"
	}
	return "absent"
}

// A drifted table's failure message, the line a CI shows first, is the drift itself.
func TestWriteJUnitDriftMessage(t *testing.T) {
	rep := Report{Table: "wallet-t", ReadOnly: true,
		Differences: []Difference{{Field: "ProvisionedThroughput.ReadCapacityUnits", Declared: "1", Live: "2"}},
		Checks: []Result{{Name: Discover, Passed: true}, {Name: Active, Passed: true},
			{Name: Conformance, Detail: "against --template /some/long/path.json: 6 of 8 fields match; not supported by this endpoint: ListTagsOfResource (Tags not compared); drift: ProvisionedThroughput.ReadCapacityUnits declared 1, live 2"}}}
	var out bytes.Buffer
	if err := rep.WriteJUnit(&out); err != nil {
		t.Fatal(err)
	}
	f := strictParse(t, out.Bytes()).Suites[0].Cases[2].Failure
	if f == nil || f.Message != "drift: ProvisionedThroughput.ReadCapacityUnits declared 1, live 2" || !strings.HasPrefix(f.Text, "against --template") {
		t.Fatalf("conformance failure %+v", f)
	}
}

// plan is the order the checks run in (helpers_test's allChecks, which the run tests hold the
// runs to); a check that ran and plan does not list is still a case, not dropped.
func TestJUnitPlan(t *testing.T) {
	if !slices.Equal(plan(), allChecks) {
		t.Fatalf("plan %v, the runs go through %v", plan(), allChecks)
	}
	rep := Report{Table: "wallet-t", Checks: []Result{{Name: Discover, Passed: true}, {Name: "new-check", Detail: "broke"}}}
	var out bytes.Buffer
	if err := rep.WriteJUnit(&out); err != nil {
		t.Fatal(err)
	}
	s := strictParse(t, out.Bytes()).Suites[0]
	if last := s.Cases[len(s.Cases)-1]; s.Tests != len(plan())+1 || last.Name != "new-check" || last.Failure == nil {
		t.Fatalf("%d cases, last %+v", s.Tests, last)
	}
}

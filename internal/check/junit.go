package check

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The JUnit XML schema as CI systems read it: the de-facto one of Ant's junitreport, which
// Jenkins, GitLab and the GitHub Actions test reporters render. Exported so that a reader (a
// test, a tool) parses the file with the same structs that wrote it.
type (
	JUnitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     JUnitSeconds `xml:"time,attr"`
		Suites   []JUnitSuite `xml:"testsuite"`
	}
	JUnitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       JUnitSeconds    `xml:"time,attr"`
		Properties []JUnitProperty `xml:"properties>property"`
		Cases      []JUnitCase     `xml:"testcase"`
		SystemOut  string          `xml:"system-out,omitempty"`
	}
	JUnitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	JUnitCase struct {
		Name      string       `xml:"name,attr"`
		Classname string       `xml:"classname,attr"`
		Time      JUnitSeconds `xml:"time,attr"`
		Failure   *JUnitResult `xml:"failure"`
		Error     *JUnitResult `xml:"error"`
		Skipped   *JUnitResult `xml:"skipped"`
	}
	// JUnitResult is a case's <failure>, <error> or <skipped>: a one-line message, the full
	// text in the body.
	JUnitResult struct {
		Message string `xml:"message,attr,omitempty"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// JUnitSeconds is a duration written as JUnit's decimal seconds.
type JUnitSeconds time.Duration

func (s JUnitSeconds) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	return xml.Attr{Name: name, Value: strconv.FormatFloat(time.Duration(s).Seconds(), 'f', 3, 64)}, nil
}

func (s *JUnitSeconds) UnmarshalXMLAttr(a xml.Attr) error {
	f, err := strconv.ParseFloat(a.Value, 64)
	if err != nil {
		return fmt.Errorf("time %q: %w", a.Value, err)
	}
	*s = JUnitSeconds(f * float64(time.Second))
	return nil
}

// How a check that did not pass shows in JUnit: a verdict on the table is a <failure>; a check
// cut short (interrupted, out of time, refused by IAM) proved nothing either way, which is what
// JUnit's <error> means; a check the run never reached is <skipped>.
const (
	junitFailureType = "check failed"
	junitSkippedType = "not run"
	junitMessageMax  = 200 // runes: CI systems show the message on one line; the body has it all
)

// WriteJUnit writes the report as JUnit XML: one suite for the table, one case per check in
// the order they run, with its time; the JSON report in the suite's <system-out>. Text is made
// valid XML 1.0 whatever it holds (see xmlSafe).
func (r *Report) WriteJUnit(w io.Writer) error {
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		return fmt.Errorf("junit: the JSON report: %w", err)
	}
	suite := r.junitSuite()
	suite.SystemOut = xmlSafe(js.String())
	doc := JUnitSuites{Name: "verify", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []JUnitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitSuite is the table's suite: one case per check in the order a full run goes through
// them, those the run never reached skipped.
func (r *Report) junitSuite() JUnitSuite {
	class := xmlSafe("verify." + orNone(r.Table))
	s := JUnitSuite{Name: xmlSafe("verify " + r.where())}
	for _, p := range [][2]string{{"stack", r.Stack}, {"table", r.Table}, {"region", r.Region}, {"run_id", r.RunID}} {
		if p[1] != "" {
			s.Properties = append(s.Properties, JUnitProperty{Name: p[0], Value: xmlSafe(p[1])})
		}
	}
	why := r.notRunReason()
	names := plan()
	for _, c := range r.Checks {
		if !slices.Contains(names, c.Name) { // a check plan does not know yet is still reported
			names = append(names, c.Name)
		}
	}
	for _, name := range names {
		c, ran := r.Check(name)
		jc := JUnitCase{Name: name, Classname: class, Time: JUnitSeconds(c.Duration)}
		switch {
		case !ran:
			jc.Skipped = junitResult(junitSkippedType, why)
			s.Skipped++
		case c.Stopped != "":
			jc.Error = junitResult(string(c.Stopped), c.Detail)
			s.Errors++
		case !c.Passed:
			jc.Failure = junitResult(junitFailureType, c.Detail)
			if name == Conformance && len(r.Differences) > 0 {
				// The line a CI shows first is the drift, not the preamble about the template.
				jc.Failure.Message = junitMessage(xmlSafe(r.drift()))
			}
			s.Failures++
		}
		s.Time += jc.Time
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	return s
}

func junitResult(kind, detail string) *JUnitResult {
	text := xmlSafe(detail)
	return &JUnitResult{Message: junitMessage(text), Type: kind, Text: text}
}

// junitMessage is text's first line, cut to what a CI shows on one line.
func junitMessage(text string) string {
	msg, _, _ := strings.Cut(text, "\n")
	if utf8.RuneCountInString(msg) > junitMessageMax {
		msg = string([]rune(msg)[:junitMessageMax]) + "…"
	}
	return msg
}

func (r *Report) drift() string {
	parts := make([]string, len(r.Differences))
	for i, d := range r.Differences {
		parts[i] = d.String()
	}
	return "drift: " + strings.Join(parts, "; ")
}

// plan is every check a run goes through, in order, when nothing ends it early and it writes.
func plan() []string {
	return []string{Discover, Active, Conformance, Roundtrip, ConditionalCreate, NoOverdraft, Transfer, ConcurrentIncrements, Cleanup}
}

// notRunReason says why the checks missing from the report did not run.
func (r *Report) notRunReason() string {
	failed := r.Failed()
	switch {
	case r.Stopped != "":
		return fmt.Sprintf("not run: the run was stopped (%s) during %s", r.Stopped, r.stoppedIn)
	case r.ReadOnly:
		return "not run: --read-only writes nothing"
	case r.Refused != "":
		return "not run: " + r.Refused
	case len(failed) > 0:
		return fmt.Sprintf("not run: the run ended after %s failed", failed[len(failed)-1])
	}
	return "not run"
}

func (r *Report) where() string {
	if r.Stack != "" {
		return r.Stack + " (table " + orNone(r.Table) + ", " + r.Region + ")"
	}
	return orNone(r.Table) + " (" + r.Region + ")"
}

// xmlSafe makes s valid XML 1.0 character data. encoding/xml escapes markup and would turn a
// forbidden character into U+FFFD; here a control character (an ANSI colour code in an
// endpoint's error, a NUL) is written as \xNN instead, so the report still says what it was.
// Tab, newline and carriage return are allowed and kept; invalid UTF-8 becomes U+FFFD.
func xmlSafe(s string) string {
	if strings.IndexFunc(s, xmlForbidden) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case xmlForbidden(r) && r < 0x20:
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		case xmlForbidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// xmlForbidden reports the runes XML 1.0's Char production excludes.
func xmlForbidden(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20:
		return true
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return true
	}
	return false
}

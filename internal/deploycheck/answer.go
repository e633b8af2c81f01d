package deploycheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"
)

// maxBody is the largest answer CloudFormation accepts, in bytes as sent: it refuses a larger
// one and fails the resource with nothing of the reason shown.
const maxBody = 4096

// minReasonRoom is what the echoed ids must leave of maxBody for the reason to say anything.
const minReasonRoom = 256

// cutNote ends a reason cut to fit; the function's log has the whole report.
const cutNote = " … (%d bytes more in the function's log)"

// responseBody is the answer as sent: aws-lambda-go's cfn.Response as JSON, its Reason cut so
// that the whole body is at most maxBody bytes. The bound is measured on the encoded body, not
// on the reason: there a quote takes two bytes, a control character six, and an invalid byte
// becomes U+FFFD. The reason is cut between characters, so never inside a UTF-8 sequence nor
// inside the escape that encodes one character.
func responseBody(ev cfn.Event, status cfn.StatusType, reason string) []byte {
	r := cfn.NewResponse(&ev)
	r.Status, r.PhysicalResourceID = status, ev.PhysicalResourceID
	if r.PhysicalResourceID == "" {
		// Create: the physical id stays the same across updates (a new one would read as a
		// replacement and make CloudFormation delete the old one).
		r.PhysicalResourceID = ev.LogicalResourceID
	}
	r.Reason = strings.ToValidUTF8(reason, "\uFFFD")
	body := mustJSON(r)
	if len(body) <= maxBody {
		return body
	}
	whole := r.Reason
	// The byte offsets where a character starts: the places the reason may be cut.
	cuts := make([]int, 0, len(whole))
	for i := range whole {
		cuts = append(cuts, i)
	}
	at := func(k int) []byte {
		r.Reason = whole[:cuts[k]] + fmt.Sprintf(cutNote, len(whole)-cuts[k])
		return mustJSON(r)
	}
	// The body only grows with the cut's position (each character adds at least a byte; the
	// note's count loses at most a digit), so the last cut that fits is found by bisection.
	lo, hi := 0, len(cuts)-1 // at(lo) fits (ParseRequest keeps minReasonRoom for it); the whole does not
	body = at(lo)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if b := at(mid); len(b) <= maxBody {
			lo, body = mid, b
		} else {
			hi = mid - 1
		}
	}
	return body
}

// answerTimeout bounds the PUT to the pre-signed URL; it runs even when the invocation's
// context has ended, since an unanswered request holds the stack until ServiceTimeout.
const answerTimeout = 20 * time.Second

// answer tells CloudFormation the verdict at u, the request's checked ResponseURL. It is sent
// here rather than by cfn.Response's Send, which uses the default HTTP client with no deadline
// and follows any redirect: a redirect is followed only to a URL the same rules accept.
func answer(ctx context.Context, hc *http.Client, rules ResponseURLs, u *url.URL, ev cfn.Event, res Result) error {
	status := cfn.StatusSuccess
	if !res.Passed {
		status = cfn.StatusFailed
	}
	var c http.Client
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		_, err := rules.Check(r.URL.String())
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(responseBody(ev, status, res.Reason)))
	if err != nil {
		return fmt.Errorf("answer CloudFormation: %w", err)
	}
	// The URL is pre-signed for an empty content type.
	req.Header.Del("Content-Type")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("answer CloudFormation (%s): %w", status, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answer CloudFormation (%s): HTTP %s", status, resp.Status)
	}
	return nil
}

// Bound cuts s to at most n bytes on a character boundary, saying how much was cut (the
// function's log has the whole report).
func Bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(fmt.Sprintf(cutNote, len(s)))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(cutNote, len(s)-cut)
}

package deploycheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
)

// Request is one invocation's event, parsed before anything runs: a CloudFormation custom
// resource request, or a direct invocation (any JSON object that holds none of
// CloudFormation's keys: {} from a person or a test, a trigger's payload).
type Request struct {
	// CloudFormation is set when the event is (or tries to be) a custom resource request.
	CloudFormation bool
	Event          cfn.Event
	// answerTo is the ResponseURL when it may be answered (see ResponseURLs), even when the rest
	// of the event is malformed; nil when there is none that may be.
	answerTo *url.URL
}

// cfnKeys are the keys of a custom resource request. Any of them, in any case, makes the event
// CloudFormation's, so a request with a misspelt or lower-case key is refused rather than
// taken for a direct invocation (and the writing checks run for it).
var cfnKeys = []string{"RequestType", "RequestId", "ResponseURL", "ResourceType", "LogicalResourceId",
	"PhysicalResourceId", "StackId", "ResourceProperties", "OldResourceProperties", "ServiceToken"}

// ParseRequest reads an event strictly: a CloudFormation request must have each key exactly as
// CloudFormation writes it, a RequestType of Create, Update or Delete, the ids it echoes back,
// and an answerable ResponseURL (rules). A malformed request is an error; the Request returned
// with it still says where to answer, when its ResponseURL could be read and may be answered,
// so that CloudFormation hears why instead of waiting for the resource's ServiceTimeout.
func ParseRequest(raw []byte, rules ResponseURLs) (Request, error) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil || top == nil {
		return salvaged(raw, rules), fmt.Errorf("the event is not a JSON object (%s): %s", describeNonObject(raw), preview(raw))
	}
	f := fields{top: top}
	req := Request{CloudFormation: f.cloudFormation()}
	if !req.CloudFormation {
		return req, nil
	}
	ev := &req.Event
	// The ResponseURL first: a request malformed in every other way is still answered there.
	ev.ResponseURL = f.str("ResponseURL", true)
	if ev.ResponseURL != "" {
		u, err := rules.Check(ev.ResponseURL)
		f.fail(err)
		req.answerTo = u
	}
	ev.RequestType = cfn.RequestType(f.str("RequestType", true))
	switch ev.RequestType {
	case cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete, "":
	default:
		f.fail(fmt.Errorf("RequestType %q: want Create, Update or Delete", ev.RequestType))
	}
	ev.RequestID = f.str("RequestId", true)
	ev.ResourceType = f.str("ResourceType", true)
	ev.LogicalResourceID = f.str("LogicalResourceId", true)
	ev.StackID = f.str("StackId", true)
	if ev.StackID != "" {
		_, err := StackName(ev.StackID)
		f.fail(err)
	}
	// Create has no physical id yet; Update and Delete name the one the Create answered.
	ev.PhysicalResourceID = f.str("PhysicalResourceId", ev.RequestType == cfn.RequestUpdate || ev.RequestType == cfn.RequestDelete)
	ev.ResourceProperties = f.props("ResourceProperties", true)
	ev.OldResourceProperties = f.props("OldResourceProperties", ev.RequestType == cfn.RequestUpdate)
	_ = f.str("ServiceToken", false)
	// The ids are echoed in the answer, of which CloudFormation takes maxBody bytes: they must
	// leave room for a reason, or there is no answer to send.
	if b := responseBody(req.Event, cfn.StatusFailed, ""); len(b) > maxBody-minReasonRoom {
		f.fail(fmt.Errorf("its ids make a %d-byte answer before any reason; CloudFormation takes %d", len(b), maxBody))
		req.answerTo = nil
	}
	return req, f.err()
}

// salvaged is what can be answered of an event that is not a JSON object (truncated, or not JSON
// at all): if it began as a CloudFormation request whose ResponseURL arrived whole, that is still
// where to say so.
func salvaged(raw []byte, rules ResponseURLs) Request {
	req := Request{}
	ids := salvage(raw)
	if ids["ResponseURL"] == "" {
		return req
	}
	req.CloudFormation = true
	req.Event = cfn.Event{ResponseURL: ids["ResponseURL"], RequestID: ids["RequestId"], StackID: ids["StackId"],
		LogicalResourceID: ids["LogicalResourceId"], PhysicalResourceID: ids["PhysicalResourceId"]}
	if u, err := rules.Check(req.Event.ResponseURL); err == nil && len(responseBody(req.Event, cfn.StatusFailed, "")) <= maxBody-minReasonRoom {
		req.answerTo = u
	}
	return req
}

// fields reads a request's top-level keys, keeping every problem found.
type fields struct {
	top  map[string]json.RawMessage
	errs []error
}

func (f *fields) fail(err error) {
	if err != nil {
		f.errs = append(f.errs, err)
	}
}

// cloudFormation reports whether the event is CloudFormation's (any of its keys, in any case),
// and notes every key not spelt exactly as CloudFormation writes it.
func (f *fields) cloudFormation() bool {
	is := false
	for k := range f.top {
		for _, want := range cfnKeys {
			if strings.EqualFold(k, want) {
				is = true
				if k != want {
					f.fail(fmt.Errorf("key %q: CloudFormation writes %q", k, want))
				}
			}
		}
	}
	return is
}

// str is a string key, bounded by maxID; required says a missing or empty one is a problem.
func (f *fields) str(key string, required bool) string {
	v, ok := f.top[key]
	if !ok {
		if required {
			f.fail(fmt.Errorf("%s is missing", key))
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		f.fail(fmt.Errorf("%s %s: want a string", key, preview(v)))
		return ""
	}
	if s == "" && required {
		f.fail(fmt.Errorf("%s is empty", key))
	}
	if len(s) > maxID {
		f.fail(fmt.Errorf("%s is %d bytes: want at most %d", key, len(s), maxID))
		return ""
	}
	return s
}

// props is an object key (the resource's properties).
func (f *fields) props(key string, required bool) map[string]any {
	v, ok := f.top[key]
	if !ok {
		if required {
			f.fail(fmt.Errorf("%s is missing", key))
		}
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		f.fail(fmt.Errorf("%s %s: want an object", key, preview(v)))
	}
	return m
}

// err is every problem in one line: it is a stack event's reason.
func (f *fields) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(f.errs))
	for i, e := range f.errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("malformed CloudFormation request: %s", strings.Join(msgs, "; "))
}

// maxID bounds each id the event carries: CloudFormation's own are well under a kilobyte (a
// physical id is at most 1 KB).
const maxID = 1024

// StackName is the stack's name in a CloudFormation stack id
// (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID).
func StackName(stackID string) (string, error) {
	parts := strings.SplitN(stackID, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "cloudformation" {
		if r, ok := strings.CutPrefix(parts[5], "stack/"); ok {
			if name, id, ok := strings.Cut(r, "/"); ok && name != "" && id != "" {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("StackId %q: want a stack's ARN, arn:PARTITION:cloudformation:REGION:ACCOUNT:stack/NAME/ID", stackID)
}

// salvage reads, from an event that is not whole JSON, the top-level strings that arrived
// complete before the point where it breaks: a truncated request's ResponseURL and ids, so that
// it can still be answered.
func salvage(raw []byte) map[string]string {
	got := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return got
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return got
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return got
		}
		var s string
		if k, ok := key.(string); ok && json.Unmarshal(v, &s) == nil && len(s) <= maxID {
			got[k] = s
		}
	}
	return got
}

// describeNonObject says what an event that is not a JSON object is, without Go's types.
func describeNonObject(raw []byte) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "it is empty"
	}
	if err := json.Unmarshal(b, new(any)); err != nil {
		return "it is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	switch b[0] {
	case '[':
		return "it is an array"
	case '"':
		return "it is a string"
	case 'n':
		return "it is null"
	case 't', 'f':
		return "it is a boolean"
	}
	return "it is a number"
}

// preview shows a bad value in an error, cut: the event is anyone's input.
func preview(b []byte) string {
	const n = 80
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if r := []rune(s); len(r) > n {
		return fmt.Sprintf("%q… (%d bytes)", string(r[:n]), len(b))
	}
	return fmt.Sprintf("%q", s)
}

// ResponseURLs are the rules for where an answer may go. CloudFormation's ResponseURL is an
// https URL pre-signed on S3; the event is otherwise anyone's who may invoke the function, so
// nothing is sent over plain http, nor to an address inside a network (a bare private,
// loopback or link-local IP), where a forged URL would aim the PUT.
type ResponseURLs struct {
	// LoopbackHTTP also accepts http to a loopback IP (127.0.0.0/8, ::1): the local harness's
	// stand-in for S3 (internal/localcloud/cfngap). Only a test sets it; the deployed function
	// sets it from a command-line flag Lambda never passes (deploycheck/main.go).
	LoopbackHTTP bool
}

// Check returns the URL when an answer may be sent there, or says why not.
func (r ResponseURLs) Check(s string) (*url.URL, error) {
	bad := func(why string) (*url.URL, error) {
		allowed := "want CloudFormation's https URL"
		if r.LoopbackHTTP {
			allowed += ", or http on a loopback IP (the local harness)"
		}
		return nil, fmt.Errorf("ResponseURL %s: %s; %s", preview([]byte(s)), why, allowed)
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	host := u.Hostname()
	switch {
	case u.Opaque != "" || host == "":
		return bad("no host")
	case u.User != nil:
		return bad("it carries a user name")
	}
	ip, isIP := hostIP(host)
	switch u.Scheme {
	case "https":
		switch {
		case !isIP && numeric(host):
			return bad(fmt.Sprintf("host %q is neither a name nor an IP address", host))
		case isIP && internal(ip), !isIP && loopbackName(host):
			return bad(fmt.Sprintf("host %s is a private, loopback or link-local address", host))
		}
		return u, nil
	case "http":
		if r.LoopbackHTTP && isIP && ip.IsLoopback() {
			return u, nil
		}
		return bad("plain http")
	}
	return bad(fmt.Sprintf("scheme %q", u.Scheme))
}

// hostIP reads a URL host as an IP address (an IPv4-mapped IPv6 one as the IPv4 it maps).
func hostIP(host string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Unmap().WithZone(""), true
}

// internal reports an address no answer to CloudFormation goes to: anything but a public
// unicast address, or one of the shared and benchmarking ranges, which are not on the Internet
// either.
func internal(ip netip.Addr) bool {
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return true
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64, which maps private IPv4 too
}

// numeric reports a host that is not an IP address as Go parses one but that some resolvers
// read as one (127.1, 2130706433, 0x7f.0.0.1): no DNS name ends in a number.
func numeric(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if strings.HasPrefix(last, "0x") {
		return true
	}
	return strings.Trim(last, "0123456789") == ""
}

// loopbackName reports the names that always mean this machine (RFC 6761).
func loopbackName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

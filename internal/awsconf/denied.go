package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Denied is an AWS call refused by IAM (or an SCP, or a permission boundary): a configuration
// problem that no retry and no other check can fix, so commands stop at the first one and say
// which permission is missing. It is recognised by the service's AccessDenied* error codes and,
// as well, by HTTP 403: moto answers a denied JSON-protocol call (DynamoDB) with an XML body the
// SDK cannot parse, so the status is all that is left of the refusal.
type Denied struct {
	Service   string // the SDK's service id: DynamoDB, CloudFormation, CloudWatch…
	Operation string // the API call: PutItem, DescribeStacks…
	// Action is the IAM action that was missing, as the service named it when it did, else
	// derived from the call (TransactWriteItems is authorised by its items' own actions).
	Action string
	// Resource is what the call was on: the service's words when it named one, else the table,
	// stack or ARN the request carried.
	Resource string
	Err      error
}

func (d *Denied) Error() string {
	on := ""
	if d.Resource != "" {
		on = " on " + d.Resource
	}
	return fmt.Sprintf("access denied: %s %s%s needs IAM action %s", d.Service, d.Operation, on, d.Action)
}

func (d *Denied) Unwrap() error { return d.Err }

// IsDenied reports whether err is an IAM refusal: for callers that only decide on it.
func IsDenied(err error) bool {
	_, ok := AsDenied(err)
	return ok
}

// AsDenied finds a denial in err's chain. Clients built from Load's configuration return
// *Denied themselves; for others this classifies the raw SDK error.
func AsDenied(err error) (*Denied, bool) {
	var d *Denied
	if errors.As(err, &d) {
		return d, true
	}
	return classify(err, nil)
}

var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"AuthorizationError": true, "AuthorizationErrorException": true, "NotAuthorized": true,
}

// credentialCodes are the services' ways of saying the credentials themselves were refused.
var credentialCodes = map[string]bool{
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "ExpiredToken": true,
	"ExpiredTokenException": true, "SignatureDoesNotMatch": true, "InvalidSignatureException": true,
	"MissingAuthenticationToken": true, "IncompleteSignature": true, "InvalidAccessKeyId": true,
}

// CredentialsRefused reports whether AWS refused the credentials themselves (unknown, expired,
// badly signed): a configuration problem like a denial, but no policy would fix it.
func CredentialsRefused(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && credentialCodes[ae.ErrorCode()]
}

// "… is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:…:table/t"
var (
	actionRE   = regexp.MustCompile(`perform: ([a-zA-Z0-9-]+:[a-zA-Z0-9*]+)`)
	resourceRE = regexp.MustCompile(`on resource: (\S+)`)
)

func classify(err error, input any) (*Denied, bool) {
	var oe *smithy.OperationError
	if err == nil || !errors.As(err, &oe) {
		return nil, false
	}
	code, msg := "", ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	// A 403 is a denial when the service named one, or named nothing at all (moto's XML body
	// the DynamoDB client cannot read). Expired or unknown credentials are 403s too, with codes
	// of their own: those are not a missing permission (CredentialsRefused).
	var re *smithyhttp.ResponseError
	forbidden := errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
	// "UnknownError" is the SDK's placeholder when it could not read the body's code (moto's
	// CloudFormation wraps its errors one level deeper than the SDK reads).
	if !deniedCodes[code] && !(forbidden && (code == "" || code == "UnknownError")) {
		return nil, false
	}
	if msg == "" {
		msg = err.Error()
	}
	d := &Denied{Service: oe.ServiceID, Operation: oe.OperationName, Err: err}
	if m := actionRE.FindStringSubmatch(msg); m != nil {
		d.Action = m[1]
	} else {
		d.Action = iamAction(oe.ServiceID, oe.OperationName, input)
	}
	if m := resourceRE.FindStringSubmatch(msg); m != nil {
		d.Resource = strings.TrimRight(m[1], ".,;")
	} else {
		d.Resource = resourceOf(input)
	}
	return d, true
}

// iamPrefixes are the IAM service prefixes that are not the SDK's service id in lower case.
var iamPrefixes = map[string]string{"Application Auto Scaling": "application-autoscaling"}

// iamAction is the IAM action a call needs: service prefix and operation name, except where the
// service authorises a call by other actions.
func iamAction(service, op string, input any) string {
	prefix, ok := iamPrefixes[service]
	if !ok {
		prefix = strings.ToLower(strings.ReplaceAll(service, " ", ""))
	}
	if in, ok := input.(*dynamodb.TransactWriteItemsInput); ok {
		// TransactWriteItems has no IAM action of its own: each item is authorised by its kind.
		seen := map[string]bool{}
		var acts []string
		for _, it := range in.TransactItems {
			a := ""
			switch {
			case it.Put != nil:
				a = "dynamodb:PutItem"
			case it.Update != nil:
				a = "dynamodb:UpdateItem"
			case it.Delete != nil:
				a = "dynamodb:DeleteItem"
			case it.ConditionCheck != nil:
				a = "dynamodb:ConditionCheckItem"
			}
			if a != "" && !seen[a] {
				seen[a] = true
				acts = append(acts, a)
			}
		}
		if len(acts) > 0 {
			return strings.Join(acts, " and ")
		}
	}
	return prefix + ":" + op
}

// resourceOf names what a request was about, from the first field of its input that names a
// resource: a table, a stack, an ARN.
func resourceOf(input any) string {
	if in, ok := input.(*dynamodb.TransactWriteItemsInput); ok {
		// A transaction names its tables in its items.
		var tables []string
		for _, it := range in.TransactItems {
			for _, t := range []*string{tableOf(it.Put), tableOf(it.Update), tableOf(it.Delete), tableOf(it.ConditionCheck)} {
				if t != nil && !slices.Contains(tables, *t) {
					tables = append(tables, *t)
				}
			}
		}
		slices.Sort(tables)
		if len(tables) > 0 {
			return "table " + strings.Join(tables, ", ")
		}
		return ""
	}
	v := reflect.ValueOf(input)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, f := range []struct{ field, kind string }{
		{"TableName", "table "}, {"StackName", "stack "}, {"ResourceArn", ""}, {"BackupArn", ""},
		{"TopicArn", ""}, {"PolicyArn", ""},
	} {
		fv := v.FieldByName(f.field)
		if fv.IsValid() && fv.Type() == reflect.TypeOf((*string)(nil)) && !fv.IsNil() {
			name := fv.Elem().String()
			// A stack named by its id (arn:…:stack/<name>/<uuid>) is shown by its name.
			if _, rest, ok := strings.Cut(name, ":stack/"); ok && f.field == "StackName" {
				name, _, _ = strings.Cut(rest, "/")
			}
			return f.kind + name
		}
	}
	// BatchWriteItem and BatchGetItem name their tables as the keys of RequestItems.
	if fv := v.FieldByName("RequestItems"); fv.IsValid() && fv.Kind() == reflect.Map && fv.Type().Key().Kind() == reflect.String && fv.Len() > 0 {
		var tables []string
		for _, k := range fv.MapKeys() {
			tables = append(tables, k.String())
		}
		slices.Sort(tables)
		return "table " + strings.Join(tables, ", ")
	}
	return ""
}

// tableOf is the TableName of one transaction item (*types.Put, *types.Update, …), nil if absent.
func tableOf(item any) *string {
	v := reflect.ValueOf(item)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	if fv := v.Elem().FieldByName("TableName"); fv.IsValid() && fv.Type() == reflect.TypeOf((*string)(nil)) && !fv.IsNil() {
		return fv.Interface().(*string)
	}
	return nil
}

// installErrors turns a refusal into *Denied on every client built from the configuration, and
// keeps whatever a broken server sent out of error messages (see cleanError). It is an
// Initialize step, so it sees the request's input (to name the resource) and the final error,
// after retries.
func installErrors(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ClassifyErrors",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil {
				return out, md, nil
			}
			// The operation error that names the call is added outside the stack; build the
			// same one here so classify can read it.
			oe := &smithy.OperationError{
				ServiceID:     middleware.GetServiceID(ctx),
				OperationName: middleware.GetOperationName(ctx),
				Err:           err,
			}
			if d, ok := classify(oe, in.Parameters); ok {
				d.Err = err
				return out, md, d
			}
			return out, md, cleanError{err}
		}), middleware.After)
}

// maxErrorText bounds an error's text: enough for any real AWS message.
const maxErrorText = 600

// cleanError is an SDK error whose text is safe to print: a broken or hostile endpoint can put
// raw bytes, control characters and megabytes into a message, which must not reach a terminal
// or a log as they are. The chain underneath is untouched, so errors.As still finds the
// service's error types.
type cleanError struct{ err error }

func (e cleanError) Error() string { return Printable(e.err.Error()) }
func (e cleanError) Unwrap() error { return e.err }

// Printable makes text safe to print on one line: invalid UTF-8 and control characters become
// U+FFFD and spaces, and anything past maxErrorText is cut, saying how much.
func Printable(s string) string {
	var b strings.Builder
	n := 0
	for i, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if n >= maxErrorText {
			fmt.Fprintf(&b, "… (%d more bytes cut)", len(s)-i)
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(' ')
		case unicode.IsControl(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

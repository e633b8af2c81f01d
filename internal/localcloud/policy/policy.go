// Package policy reads the IAM policies a stack deployed and gives copies of them to users of
// the local cloud, so that a test runs verify with exactly the permissions a user would attach,
// and moto (with localcloud's EnforceIAM) refuses everything else.
//
// moto matches a request's action against the policy but its resource always as "*", so a
// statement scoped to a table's ARN matches nothing there, and it evaluates no condition. A test
// therefore holds a policy's action set to account with AnyResource, a copy with Resource "*"
// and no conditions, and without the Deny statements scoped to a resource (the ledger's), which
// moto would apply to every resource; the exact resources, the conditions and the Denies are the
// template tests' and the policy engine's to prove (infra).
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// CloudFormation is the one call that finds a stack's policies.
type CloudFormation interface {
	ListStackResources(ctx context.Context, in *cloudformation.ListStackResourcesInput, optFns ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error)
}

// IAM is every IAM call: reading a deployed policy's document, and making a user that holds a
// copy of it.
type IAM interface {
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	CreateUser(ctx context.Context, in *iam.CreateUserInput, optFns ...func(*iam.Options)) (*iam.CreateUserOutput, error)
	CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	AttachUserPolicy(ctx context.Context, in *iam.AttachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachUserPolicyOutput, error)
	CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
}

// ManagedPolicyType is the CloudFormation resource type of the policies the wallet stacks ship.
const ManagedPolicyType = "AWS::IAM::ManagedPolicy"

// Document is an identity-based policy. It holds only the fields the shipped policies use, and
// reading one with any other field (NotAction, NotResource…) fails: a copy made from it must
// differ from what was deployed only where a test says so.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one Allow or Deny of a Document.
type Statement struct {
	Sid      string  `json:"Sid,omitempty"`
	Effect   string  `json:"Effect"`
	Action   Strings `json:"Action"`
	Resource Strings `json:"Resource"`
	// Condition is kept as deployed; AnyResource leaves it out.
	Condition json.RawMessage `json:"Condition,omitempty"`
}

// Strings is a policy element that IAM writes either as one string or as a list.
type Strings []string

// UnmarshalJSON accepts both forms.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %s", b)
	}
	*s = many
	return nil
}

// AllowAll is a policy that allows every action on everything: the test's own set-up user,
// since the fixed test credentials stop working once IAM is enforced.
func AllowAll() Document {
	return Document{Version: "2012-10-17", Statement: []Statement{{Sid: "Everything", Effect: "Allow", Action: Strings{"*"}, Resource: Strings{"*"}}}}
}

// Parse reads a policy document as IAM returns it: URL-encoded (RFC 3986) or plain JSON.
func Parse(doc string) (Document, error) {
	plain, err := url.PathUnescape(doc)
	if err != nil {
		return Document{}, fmt.Errorf("policy document: not URL-encoded JSON: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(plain))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return Document{}, fmt.Errorf("policy document %.200s: %w (only Version and Statement of Sid, Effect, Action, Resource, Condition are understood)", plain, err)
	}
	if len(d.Statement) == 0 {
		return Document{}, fmt.Errorf("policy document %.200s: no statements", plain)
	}
	return d, nil
}

// JSON is the document as IAM takes it.
func (d Document) JSON() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(d) // a Document of strings always encodes
	return strings.TrimSpace(b.String())
}

// Actions are every action the document allows, sorted, each once.
func (d Document) Actions() []string {
	var all []string
	for _, s := range d.Statement {
		if s.Effect == "Allow" {
			all = append(all, s.Action...)
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// AnyResource is the form in which moto, which sees every request's resource as "*" and
// evaluates no condition, enforces d's actions: a copy in which every Allow applies to "*"
// without its condition, and a Deny scoped to resources (which moto would apply to all) is left
// out; a Deny of "*" stays.
func (d Document) AnyResource() Document {
	c := d.clone()
	kept := c.Statement[:0]
	for _, s := range c.Statement {
		if s.Effect == "Deny" && !slices.Equal(s.Resource, Strings{"*"}) {
			continue
		}
		s.Resource, s.Condition = Strings{"*"}, nil
		kept = append(kept, s)
	}
	c.Statement = kept
	return c
}

// Without is a copy of d that no longer allows action. It is an error if d does not allow it:
// a test that removes nothing proves nothing.
func (d Document) Without(action string) (Document, error) {
	c := d.clone()
	found := false
	kept := c.Statement[:0]
	for _, s := range c.Statement {
		if i := slices.Index(s.Action, action); i >= 0 && s.Effect == "Allow" {
			found = true
			s.Action = slices.Delete(slices.Clone(s.Action), i, i+1)
		}
		if len(s.Action) > 0 {
			kept = append(kept, s)
		}
	}
	if !found {
		return Document{}, fmt.Errorf("the policy does not allow %s (it allows %s)", action, strings.Join(d.Actions(), ", "))
	}
	c.Statement = kept
	return c, nil
}

// With is a copy of d with s added.
func (d Document) With(s Statement) Document {
	c := d.clone()
	c.Statement = append(c.Statement, s)
	return c
}

// WithAlias is a copy of d in which every action under the prefix from (e.g. "cloudwatch:") is
// also allowed under the prefix to ("monitoring:"), in the same statement: for a backend that
// names a service's actions by another prefix than IAM does. Remove the original action and
// its alias goes too.
func (d Document) WithAlias(from, to string) Document {
	c := d.clone()
	for i, s := range c.Statement {
		for _, a := range s.Action {
			if rest, ok := strings.CutPrefix(a, from); ok && !slices.Contains(s.Action, to+rest) {
				c.Statement[i].Action = append(c.Statement[i].Action, to+rest)
			}
		}
	}
	return c
}

func (d Document) clone() Document {
	c := Document{Version: d.Version, Statement: make([]Statement, len(d.Statement))}
	for i, s := range d.Statement {
		s.Action, s.Resource, s.Condition = slices.Clone(s.Action), slices.Clone(s.Resource), slices.Clone(s.Condition)
		c.Statement[i] = s
	}
	return c
}

// Deployed is the document of the one managed policy of stack whose logical ID starts with
// logicalPrefix (CDK appends a hash to the ID it was given, e.g. VerifyPolicy → VerifyPolicy1A2B3C4D).
func Deployed(ctx context.Context, cfn CloudFormation, iamc IAM, stack, logicalPrefix string) (Document, error) {
	var arns, seen []string
	pages := cloudformation.NewListStackResourcesPaginator(cfn, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return Document{}, fmt.Errorf("list resources of stack %s: %w", stack, err)
		}
		for _, r := range page.StackResourceSummaries {
			if aws.ToString(r.ResourceType) != ManagedPolicyType {
				continue
			}
			seen = append(seen, aws.ToString(r.LogicalResourceId))
			if strings.HasPrefix(aws.ToString(r.LogicalResourceId), logicalPrefix) {
				arns = append(arns, aws.ToString(r.PhysicalResourceId))
			}
		}
	}
	if len(arns) != 1 {
		return Document{}, fmt.Errorf("stack %s: want one %s whose logical ID starts with %q, found %d (its managed policies: %v)",
			stack, ManagedPolicyType, logicalPrefix, len(arns), seen)
	}
	return Read(ctx, iamc, arns[0])
}

// Read is the default version of the managed policy arn.
func Read(ctx context.Context, iamc IAM, arn string) (Document, error) {
	p, err := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return Document{}, fmt.Errorf("get policy %s: %w", arn, err)
	}
	if p.Policy == nil || p.Policy.DefaultVersionId == nil {
		return Document{}, fmt.Errorf("get policy %s: no default version", arn)
	}
	v, err := iamc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return Document{}, fmt.Errorf("get policy %s version %s: %w", arn, aws.ToString(p.Policy.DefaultVersionId), err)
	}
	if v.PolicyVersion == nil || v.PolicyVersion.Document == nil {
		return Document{}, fmt.Errorf("get policy %s version %s: no document", arn, aws.ToString(p.Policy.DefaultVersionId))
	}
	d, err := Parse(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		return Document{}, fmt.Errorf("policy %s: %w", arn, err)
	}
	return d, nil
}

// User is an IAM user of the local cloud and its one access key.
type User struct {
	Name, AccessKeyID, SecretAccessKey string
}

// Env is the environment that makes the SDK, the CLIs and the verify binary act as u: later
// entries win in os/exec, so append it after the local cloud's own.
func (u User) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + u.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + u.SecretAccessKey, "AWS_SESSION_TOKEN="}
}

// Credentials are u's for an SDK configuration.
func (u User) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(u.AccessKeyID, u.SecretAccessKey, "")
}

// NewUser creates user name holding d as a managed policy of its own (named <name>-policy)
// attached to it, the way a user attaches a shipped policy, and an access key for it.
func NewUser(ctx context.Context, iamc IAM, name string, d Document) (User, error) {
	if len(d.Statement) == 0 {
		return User{}, errors.New("new user " + name + ": an empty policy")
	}
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	p, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name + "-policy"), PolicyDocument: aws.String(d.JSON())})
	if err != nil {
		return User{}, fmt.Errorf("create the policy of user %s: %w", name, err)
	}
	if _, err := iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: p.Policy.Arn}); err != nil {
		return User{}, fmt.Errorf("attach %s to user %s: %w", aws.ToString(p.Policy.Arn), name, err)
	}
	k, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return User{}, fmt.Errorf("create an access key for user %s: %w", name, err)
	}
	return User{Name: name, AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)}, nil
}

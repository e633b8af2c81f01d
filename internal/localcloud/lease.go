package localcloud

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultAccount is the account moto acts in for the fixed test credentials (AccessKeyID).
const DefaultAccount = "123456789012"

// Regions are the regions moto 5.2.1 serves DynamoDB, CloudFormation and CloudWatch in
// (botocore's endpoint list): where a lease may be. moto keeps each (account, region) apart.
func Regions() []string {
	return []string{
		"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
		"ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
		"ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
		"eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
		"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	}
}

// leaseRole is the role a lease assumes in an account of its own. moto assumes any role in any
// account without it existing, and from then on acts in that account for the credentials it
// returned.
const leaseRole = "localcloud-lease"

// Lease is one test's own part of a moto that other tests share: an account and region no
// other lease of the server has had, credentials that act in that account, and a token for the
// test's names. moto keeps every (account, region) apart, so a test's tables, stacks, backups,
// queues and metrics there cannot meet another test's, nor an earlier run's of the same test
// (-count=N, or a rerun after a failure, each take a new lease). What moto keeps per account
// and not per region (IAM) or across accounts (S3 bucket names) is kept apart by the token in
// the names, or by OwnAccount.
type Lease struct {
	Endpoint string
	Account  string
	Region   string
	// Token is unique among the server's leases: lower-case letters and digits, at most 12,
	// so it fits in any name (a table, a stack, a bucket, a role) after a letter.
	Token       string
	Credentials aws.Credentials
}

// LeaseOption narrows what a lease may be.
type LeaseOption func(*leaseWant)

type leaseWant struct {
	region string
	whole  bool
}

// InRegion is for a test whose expectation is about the region itself (its prices, a region a
// report must name): the lease is in region, in an account where no lease has had it yet.
func InRegion(region string) LeaseOption { return func(w *leaseWant) { w.region = region } }

// OwnAccount is for a test that needs more apart than a region (IAM users and roles, an
// organization, anything moto keeps per account): the lease is the only one ever given in its
// account.
func OwnAccount() LeaseOption { return func(w *leaseWant) { w.whole = true } }

// leaseBook is a server's record of the leases it gave: the allocator. It lives with the server
// because the server is what the tests share.
type leaseBook struct {
	mu       sync.Mutex
	n        int
	accounts []*leaseAccount
}

type leaseAccount struct {
	id    string
	creds aws.Credentials
	taken map[string]bool
	whole bool // given whole to one lease (OwnAccount)
}

// Lease gives tb an (account, region) of s that no lease has had: each region of the default
// account first (but us-east-1, where the environment MotoMain and SetEnv make points, so a
// test that leases nothing is apart from those that do), then each region of a new account,
// entered by STS AssumeRole.
func (s *Server) Lease(tb testing.TB, opts ...LeaseOption) Lease {
	tb.Helper()
	l, err := s.lease(tb.Context(), opts...)
	if err != nil {
		tb.Fatalf("lease a part of %s at %s: %v", s.Name, s.Endpoint, err)
	}
	return l
}

func (s *Server) lease(ctx context.Context, opts ...LeaseOption) (Lease, error) {
	var want leaseWant
	for _, o := range opts {
		o(&want)
	}
	regions := Regions()
	if want.region != "" && !slices.Contains(regions, want.region) {
		return Lease{}, fmt.Errorf("region %q: moto serves %v", want.region, regions)
	}
	b := &s.leases
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.accounts) == 0 {
		b.accounts = append(b.accounts, &leaseAccount{id: DefaultAccount,
			creds: aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, Source: "localcloud"},
			taken: map[string]bool{Region: true}})
	}
	acct, region := b.free(want, regions)
	if acct == nil {
		var err error
		if acct, err = s.newAccount(ctx, len(b.accounts)); err != nil {
			return Lease{}, err
		}
		b.accounts = append(b.accounts, acct)
		if region = want.region; region == "" {
			region = regions[0]
		}
	}
	acct.taken[region] = true
	acct.whole = want.whole
	b.n++
	return Lease{Endpoint: s.Endpoint, Account: acct.id, Region: region, Credentials: acct.creds,
		Token: "t" + strconv.FormatInt(int64(b.n), 36) + strconv.FormatInt(rand.Int64N(36*36*36), 36)}, nil
}

// free is the first account and region no lease has had that want allows, or nil: a new
// account is wanted.
func (b *leaseBook) free(want leaseWant, regions []string) (*leaseAccount, string) {
	if want.whole {
		return nil, ""
	}
	for _, a := range b.accounts {
		if a.whole {
			continue
		}
		for _, r := range regions {
			if (want.region == "" || r == want.region) && !a.taken[r] {
				return a, r
			}
		}
	}
	return nil, ""
}

// newAccount enters account number k (k ≥ 1) of the book: 7000000000k, a pattern no test
// writes by hand, by AssumeRole with the fixed test credentials.
func (s *Server) newAccount(ctx context.Context, k int) (*leaseAccount, error) {
	id := fmt.Sprintf("7%011d", k)
	client := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(s.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // a hang guard, not a bound on speed
	defer cancel()
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + id + ":role/" + leaseRole),
		RoleSessionName: aws.String("lease"),
		// moto does not expire what it hands out; 12 hours outlasts any test run on AWS too.
		DurationSeconds: aws.Int32(12 * 3600),
	})
	if err != nil {
		return nil, fmt.Errorf("enter account %s: %w", id, err)
	}
	c := out.Credentials
	return &leaseAccount{id: id, taken: map[string]bool{}, creds: aws.Credentials{
		AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), Source: "localcloud lease"}}, nil
}

// Env is the environment that points a client (the SDK's default chain, the CDK CLI, the aws
// CLI, a child process) at the lease: its endpoint, region and credentials.
func (l Lease) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + l.Endpoint,
		"AWS_ACCESS_KEY_ID=" + l.Credentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + l.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + l.Credentials.SessionToken,
		"AWS_REGION=" + l.Region,
		"AWS_DEFAULT_REGION=" + l.Region,
	}
}

package check

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// verifierActions are what a run calls: the VerifyPolicy's actions, plus BatchGetItem for
// clean-up and TransactWriteItems, which moto asks for where AWS authorises a transaction by
// its items' actions.
var verifierActions = []string{
	"dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:DescribeContinuousBackups", "dynamodb:ListTagsOfResource",
	"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	"dynamodb:ConditionCheckItem", "dynamodb:TransactWriteItems",
	"cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:GetTemplate",
	"application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies",
}

func without(action string) []string {
	return slices.DeleteFunc(slices.Clone(verifierActions), func(a string) bool { return a == action })
}

// IAM enforced by moto (it evaluates a policy's actions, not its resources, and refuses a
// DynamoDB call with HTTP 403 and an XML body). The first refusal stops the run: no check runs
// after it, clean-up still does, and Run's error carries the *awsconf.Denied. A moto of its
// own, since enforcement is server-wide.
func TestIAMRefusalStopsTheRun(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	fx := fixture.NewCloud(t, "")
	stackTable := fx.CreateStack(t, "Wallet-iam", devTable)[0]
	fx.CreateKeyedTable(t, "wallet-iam", fixture.KeyedTable{OnDemand: true})
	admin := fx.As(fx.IAMUser(t, "admin", "*"))
	users := map[string]aws.Credentials{
		"verifier":    fx.IAMUser(t, "verifier", verifierActions...),
		"no-update":   fx.IAMUser(t, "no-update", without("dynamodb:UpdateItem")...),
		"no-describe": fx.IAMUser(t, "no-describe", without("dynamodb:DescribeTable")...),
		"no-template": fx.IAMUser(t, "no-template", without("cloudformation:GetTemplate")...),
		"no-scaling":  fx.IAMUser(t, "no-scaling", without("application-autoscaling:DescribeScalableTargets")...),
	}
	if err := srv.EnforceIAM(t.Context()); err != nil {
		t.Fatal(err)
	}

	clientsOf := func(t *testing.T, user string) Clients {
		cfg, err := awsconf.Load(t.Context(), awsconf.Options{Adaptive: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Credentials = credentials.StaticCredentialsProvider{Value: users[user]}
		return NewClients(cfg)
	}
	stackOptions := func() Options {
		o := tableOptions("")
		o.Stack, o.AppDir = "Wallet-iam", t.TempDir()
		return o
	}
	wantDenied := func(t *testing.T, err error, action string) {
		t.Helper()
		d, ok := awsconf.AsDenied(err)
		if !ok || d.Action != action {
			t.Fatalf("want a refusal of %s, got %v", action, err)
		}
	}

	// The control: with every action it needs, the same set-up passes, so each refusal below
	// is the one missing action and nothing else.
	t.Run("every action granted: every check passes", func(t *testing.T) {
		rep, err := Run(t.Context(), clientsOf(t, "verifier"), onMoto(stackOptions()))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks)
		admin.NoItems(t, stackTable)
	})

	t.Run("a refused write stops the checks; clean-up still runs", func(t *testing.T) {
		rep, err := Run(t.Context(), clientsOf(t, "no-update"), tableOptions("wallet-iam"))
		wantDenied(t, err, "dynamodb:UpdateItem")
		// no-overdraft and concurrent-increments update; they run beside conditional-create and
		// transfer, which the first refusal stops if they have not finished. A refusal is not a
		// failed check.
		wantResults(t, rep, allChecks)
		wantStopped(t, rep, NoOverdraft, AccessDenied)
		wantStopped(t, rep, ConcurrentIncrements, AccessDenied)
		for _, name := range []string{ConditionalCreate, Transfer} {
			if c, _ := rep.Check(name); !c.Passed && c.Stopped != AccessDenied {
				t.Errorf("%s: %+v", name, c)
			}
		}
		first := rep.Denied.Operation == "UpdateItem" && (strings.HasPrefix(err.Error(), NoOverdraft+": access denied: DynamoDB UpdateItem on table wallet-iam") ||
			strings.HasPrefix(err.Error(), ConcurrentIncrements+": access denied: DynamoDB UpdateItem on table wallet-iam"))
		if !first {
			t.Fatalf("the error must name the check refused and the call: %v", err)
		}
		wantDetail(t, rep, Cleanup, "consistent reads find none left")
		admin.NoItems(t, "wallet-iam")
	})

	t.Run("a refused describe is a discovery error", func(t *testing.T) {
		rep, err := Run(t.Context(), clientsOf(t, "no-describe"), tableOptions("wallet-iam"))
		var de *DiscoveryError
		if !errors.As(err, &de) {
			t.Fatalf("want a DiscoveryError, got %v", err)
		}
		wantDenied(t, err, "dynamodb:DescribeTable")
		wantResults(t, rep, []string{Discover})
		wantStopped(t, rep, Discover, AccessDenied)
	})

	// A verifier without GetTemplate must be told, not silently compared against cdk.out or
	// the essentials.
	t.Run("a refused GetTemplate stops at conformance", func(t *testing.T) {
		rep, err := Run(t.Context(), clientsOf(t, "no-template"), stackOptions())
		wantDenied(t, err, "cloudformation:GetTemplate")
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantStopped(t, rep, Conformance, AccessDenied)
		admin.NoItems(t, stackTable)
	})

	// Without the auto scaling read, a fixed table's scaling behind CloudFormation's back
	// would go unseen: a refusal, not a silent pass.
	t.Run("a refused DescribeScalableTargets stops at conformance", func(t *testing.T) {
		rep, err := Run(t.Context(), clientsOf(t, "no-scaling"), stackOptions())
		wantDenied(t, err, "application-autoscaling:DescribeScalableTargets")
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantStopped(t, rep, Conformance, AccessDenied)
		admin.NoItems(t, stackTable)
	})
}

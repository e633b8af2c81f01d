package org

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// moto is the package's one moto. Each test that builds an organization leases an account of
// its own to be its management account (moto keeps an organization per account), so no test
// meets another's organization, accounts or tables, nor an earlier run's.
var moto *localcloud.Server

func TestMain(m *testing.M) {
	os.Exit(localcloud.MotoMain(m, func(s *localcloud.Server) { moto = s }))
}

// ownOrg is an organization of its own for the test, of n members named prefix-1 … prefix-n,
// the environment pointed at its management account.
func ownOrg(t *testing.T, prefix string, n int) fixture.Org {
	t.Helper()
	moto.Lease(t, localcloud.OwnAccount()).SetEnv(t)
	return fixture.NewOrg(t, prefix, n)
}

func loadConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// refusingSTS refuses AssumeRole into one account, as AWS does when the role is missing or
// does not trust the caller. A fake only for that fault: moto assumes any role in any account.
type refusingSTS struct {
	STS
	account string
}

func (r refusingSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if strings.Contains(aws.ToString(in.RoleArn), ":"+r.account+":") {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform: sts:AssumeRole on " + aws.ToString(in.RoleArn)}
	}
	return r.STS.AssumeRole(ctx, in, optFns...)
}

// The organization's ACTIVE accounts are entered with the role (each unit's credentials act in
// its own account), the caller's own with its own credentials; a suspended account is reported
// with its status, an excluded one not at all, a refused role fails only its account.
func TestEnterTheOrganization(t *testing.T) {
	ctx := t.Context()
	o := ownOrg(t, "enter", 4)
	suspended, refused, excluded := o.Members[0], o.Members[1], o.Members[2]
	good := o.Members[3]
	o.Close(t, suspended)

	cfg := loadConfig(t)
	stsc := sts.NewFromConfig(cfg)
	caller, err := Identify(ctx, stsc)
	if err != nil {
		t.Fatal(err)
	}
	if caller.Account != o.Management || caller.Partition != "aws" {
		t.Fatalf("caller %+v, want the management account %s in aws", caller, o.Management)
	}
	listed, err := List(ctx, organizations.NewFromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if id := ID(listed); id != o.ID {
		t.Errorf("organization id %q, want %q", id, o.ID)
	}
	accounts := Exclude(listed, []string{excluded})
	accounts, cfgs := Enter(ctx, cfg, refusingSTS{stsc, refused}, caller, DefaultRole, accounts)

	byID := map[string]Account{}
	for _, a := range accounts {
		byID[a.ID] = a
	}
	if _, ok := byID[excluded]; ok {
		t.Errorf("excluded account %s still listed", excluded)
	}
	if a := byID[suspended]; a.Status != "SUSPENDED" || a.Runnable() || !strings.Contains(a.Error, "SUSPENDED") {
		t.Errorf("suspended account: %+v", a)
	}
	if a := byID[refused]; a.Runnable() || !strings.Contains(a.Error, "AccessDenied") || !strings.Contains(a.Error, "role/"+DefaultRole) || !strings.Contains(a.Error, "its trust policy trusts") {
		t.Errorf("refused account: %+v", a)
	}
	if a := byID[good]; !a.Runnable() || a.Name != o.Names[good] || a.Self {
		t.Errorf("member account: %+v", a)
	}
	if a := byID[o.Management]; !a.Runnable() || !a.Self {
		t.Errorf("management account: %+v", a)
	}

	units := Units(accounts, cfgs, []string{"us-east-1", "eu-west-1"})
	var keys []string
	for _, u := range units {
		keys = append(keys, u.Key())
	}
	want := []string{good + "/us-east-1", good + "/eu-west-1", o.Management + "/us-east-1", o.Management + "/eu-west-1"}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("units %v, want %v", keys, want)
	}
	// Each unit acts in its own account and region: a table made through one is not in another.
	results := Run(ctx, units, 4, func(ctx context.Context, u Unit) (string, error) {
		id, err := Identify(ctx, sts.NewFromConfig(u.Config))
		if err != nil {
			return "", err
		}
		if id.Account != u.Account.ID {
			return "", fmt.Errorf("acts in %s", id.Account)
		}
		db := dynamodb.NewFromConfig(u.Config)
		name := "enter-" + strings.ReplaceAll(u.Key(), "/", "-")
		in := fixtureTable(name)
		if err := fixture.CreateTableOnce(t, db, in); err != nil { // once: a retry after a lost answer meets its own table
			return "", err
		}
		out, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			return "", err
		}
		var ours []string
		for _, n := range out.TableNames {
			if strings.HasPrefix(n, "enter-") {
				ours = append(ours, n)
			}
		}
		return strings.Join(ours, ","), nil
	})
	for _, r := range results {
		want := "enter-" + strings.ReplaceAll(r.Unit.Key(), "/", "-")
		if r.Err != nil || r.Value != want {
			t.Errorf("unit %s: tables %q, err %v; want only %s", r.Unit.Key(), r.Value, r.Err, want)
		}
	}
}

func fixtureTable(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("user_id"), AttributeType: "S"}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("user_id"), KeyType: "HASH"}},
		BillingMode:          "PAY_PER_REQUEST",
	}
}

// Named accounts are taken as given; bad ids and role names are refused, saying what is allowed.
func TestNamedAccountsAndNoneRead(t *testing.T) {
	accounts := Named([]string{"222222222222", "111111111111", "222222222222"})
	if len(accounts) != 2 || accounts[0].ID != "111111111111" || !accounts[0].Runnable() {
		t.Fatalf("named: %+v", accounts)
	}
	for _, bad := range []string{"12345678901", "1234567890123", "12345678901a", ""} {
		if err := CheckAccountID("--accounts", bad); err == nil || !strings.Contains(err.Error(), "12-digit") {
			t.Errorf("account %q: %v", bad, err)
		}
	}
	for _, bad := range []string{"", "has space", "slash/role", strings.Repeat("r", 65)} {
		if err := CheckRoleName("--role-name", bad); err == nil {
			t.Errorf("role %q accepted", bad)
		}
	}
	if err := CheckRoleName("--role-name", "Org+Access=Role,v1.2@x_y-z"); err != nil {
		t.Error(err)
	}
}

// inFlight is a reverse proxy in front of moto that measures how many requests it holds at
// once: the bound is on the caller's side, so it is measured on the other.
type inFlight struct {
	mu       sync.Mutex
	now, max int
	total    atomic.Int64
}

func (f *inFlight) serve(t *testing.T) string {
	t.Helper()
	up, _ := url.Parse(moto.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(up)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		f.total.Add(1)
		rp.ServeHTTP(w, r)
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// One bound holds for the whole run: 2 accounts × 2 regions, each unit making 8 calls at once
// (as the engine does per region), never put more than the bound in flight.
func TestOneBoundForTheWholeRun(t *testing.T) {
	ctx := t.Context()
	o := ownOrg(t, "bound", 1)
	var proxy inFlight
	t.Setenv("AWS_ENDPOINT_URL", proxy.serve(t))
	cfg := loadConfig(t)
	const bound = 3
	b := Bound(cfg.HTTPClient, bound)
	cfg.HTTPClient = b
	stsc := sts.NewFromConfig(cfg)
	caller, err := Identify(ctx, stsc)
	if err != nil {
		t.Fatal(err)
	}
	accounts, cfgs := Enter(ctx, cfg, stsc, caller, DefaultRole, Named([]string{o.Management, o.Members[0]}))
	units := Units(accounts, cfgs, []string{"us-east-1", "eu-west-1"})
	if len(units) != 4 {
		t.Fatalf("units: %d", len(units))
	}
	Run(ctx, units, len(units), func(ctx context.Context, u Unit) (int, error) {
		db := dynamodb.NewFromConfig(u.Config)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 3 {
					if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		return 0, nil
	})
	if proxy.total.Load() < 4*8*3 {
		t.Fatalf("only %d calls reached the endpoint", proxy.total.Load())
	}
	if proxy.max > bound || b.Peak() > bound {
		t.Fatalf("%d calls in flight at the endpoint (peak seen by the bound %d); the bound is %d", proxy.max, b.Peak(), bound)
	}
	if proxy.max < 2 {
		t.Fatalf("at most %d call in flight: the run was not concurrent, so the bound was not tested", proxy.max)
	}
}

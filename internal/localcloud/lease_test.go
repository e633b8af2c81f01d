package localcloud

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Every lease of one moto is an (account, region) no other lease had, and more leases than moto
// has regions go on in new accounts; each lease's credentials act in its own account, where a
// table of another lease's name is not seen. The default account's us-east-1 (where the
// environment points) is never leased; InRegion and OwnAccount get what they ask for.
func TestLeasesOfOneMotoNeverShareAnAccountAndRegion(t *testing.T) {
	s := Moto(t)
	n := len(Regions()) + 5
	seen := map[string]bool{}
	tokens := map[string]bool{}
	var leases []Lease
	for range n {
		l := s.Lease(t)
		key := l.Account + "/" + l.Region
		if seen[key] {
			t.Fatalf("lease %s given twice", key)
		}
		if tokens[l.Token] || len(l.Token) > 12 || strings.Trim(l.Token, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Fatalf("token %q: want unique, at most 12 lower-case letters and digits", l.Token)
		}
		seen[key], tokens[l.Token] = true, true
		leases = append(leases, l)
	}
	if seen[DefaultAccount+"/"+Region] {
		t.Errorf("the default account's %s, where the environment points, was leased", Region)
	}
	accounts := map[string]bool{}
	for _, l := range leases {
		accounts[l.Account] = true
	}
	if len(accounts) != 2 || !accounts[DefaultAccount] {
		t.Errorf("%d leases in accounts %v: want the default account's regions first, then one more account", n, accounts)
	}

	// Two leases in one region, one in another account: each acts in its own.
	here := s.Lease(t, InRegion("eu-west-1"))
	there := s.Lease(t, InRegion("eu-west-1"))
	if here.Region != "eu-west-1" || there.Region != "eu-west-1" || here.Account == there.Account {
		t.Fatalf("InRegion: %s/%s and %s/%s, want eu-west-1 in two accounts", here.Account, here.Region, there.Account, there.Region)
	}
	for _, l := range []Lease{here, there} {
		id, err := sts.NewFromConfig(l.Config(t)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(id.Account) != l.Account {
			t.Fatalf("lease %s/%s: STS names %v (%v)", l.Account, l.Region, id, err)
		}
	}
	db := dynamodb.NewFromConfig(here.Config(t))
	if _, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String("same-name"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil && !errors.As(err, new(*types.ResourceInUseException)) {
		// (in use: the SDK's retry after a lost answer met the table its first try made; the
		// lease is new, so no other could have.)
		t.Fatal(err)
	}
	out, err := dynamodb.NewFromConfig(there.Config(t)).ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil || slices.Contains(out.TableNames, "same-name") {
		t.Fatalf("another lease's account sees %v (%v): want none of the first lease's tables", out.TableNames, err)
	}

	own := s.Lease(t, OwnAccount())
	if accounts[own.Account] || own.Account == here.Account || own.Account == there.Account {
		t.Fatalf("OwnAccount: %s, an account other leases have", own.Account)
	}
	if next := s.Lease(t); next.Account == own.Account {
		t.Fatalf("a lease after OwnAccount's is in its account %s", own.Account)
	}
}

// A region moto does not serve is refused, naming it and what is allowed.
func TestALeaseInARegionMotoDoesNotServeIsRefused(t *testing.T) {
	s := &Server{Name: "moto", Endpoint: "http://localhost:1"}
	_, err := s.lease(t.Context(), InRegion("Mars"))
	if err == nil || !strings.Contains(err.Error(), `"Mars"`) || !strings.Contains(err.Error(), "us-east-1") {
		t.Fatalf("want a refusal naming Mars and the regions, got %v", err)
	}
}

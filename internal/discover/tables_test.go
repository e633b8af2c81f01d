package discover_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/policy"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The one lister the sweep, the janitor and cost share, on moto: every page, ours by the tag or
// by the prefix, the others listed but not ours; and a region whose tables may not be listed is
// a problem, or a note when every region was asked for (an organization policy closing it
// answers with the denial moto's enforced IAM gives here).
func TestTablesListsEveryPageAndOneRegionPolicy(t *testing.T) {
	moto := localcloud.Moto(t) // its own: IAM enforcement belongs to one moto process
	moto.SetEnv(t)
	ctx := t.Context()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	tagged := map[string]string{wallet.TagProject: wallet.ProjectName}
	for name, tags := range map[string]map[string]string{
		"lister-tagged": tagged, "lister-other": {wallet.TagProject: "payments"}, "pfx-named": nil, "lister-untagged": nil,
	} {
		createTable(t, db, name, tags)
	}

	l := discover.Tables(ctx, db, "eu-west-1", discover.ListOptions{NamePrefix: "pfx-", PageLimit: 1})
	var names, ours []string
	for _, tb := range l.Tables {
		names = append(names, tb.Name())
		if tb.Ours {
			ours = append(ours, tb.Name())
		}
	}
	if !l.Listed || len(l.Problems) != 0 || !slices.Equal(names, []string{"lister-other", "lister-tagged", "lister-untagged", "pfx-named"}) ||
		!slices.Equal(ours, []string{"lister-tagged", "pfx-named"}) {
		t.Fatalf("listed %v, %v, ours %v, problems %+v", l.Listed, names, ours, l.Problems)
	}

	user, err := policy.NewUser(ctx, iam.NewFromConfig(cfg), "no-list", policy.Document{Version: "2012-10-17",
		Statement: []policy.Statement{{Effect: "Allow", Action: []string{"dynamodb:DescribeTable"}, Resource: policy.Strings{"*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := moto.EnforceIAM(ctx); err != nil {
		t.Fatal(err)
	}
	closed := cfg.Copy()
	closed.Credentials = credentials.NewStaticCredentialsProvider(user.AccessKeyID, user.SecretAccessKey, "")
	cdb := dynamodb.NewFromConfig(closed)
	for _, skip := range []bool{false, true} {
		l := discover.Tables(ctx, cdb, "eu-west-1", discover.ListOptions{SkipClosedRegions: skip})
		problems, notes := fmt.Sprint(l.Problems), strings.Join(l.Notes, "\n")
		switch {
		case l.Listed || len(l.Tables) != 0:
			t.Errorf("skip %v: listed %v, %d tables from a region closed to the caller", skip, l.Listed, len(l.Tables))
		case !skip && (len(l.Problems) != 1 || l.Problems[0].Table != "" || !strings.Contains(problems, "list tables") || len(l.Notes) != 0):
			t.Errorf("one region asked for: want one problem of the region, got %s, notes %q", problems, notes)
		case skip && (len(l.Problems) != 0 || !strings.Contains(notes, "eu-west-1: skipped, listing tables there was refused (an organization policy?)")):
			t.Errorf("every region asked for: want a note, got %s, notes %q", problems, notes)
		}
	}
}

func createTable(t *testing.T, db *dynamodb.Client, name string, tags map[string]string) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          dtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dtypes.ScalarAttributeTypeS}},
		KeySchema:            []dtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dtypes.KeyTypeHash}},
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, dtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if err := fixture.CreateTableOnce(t, db, in); err != nil { // once: a retry after a lost answer meets its own table
		t.Fatalf("create table %s: %v", name, err)
	}
}

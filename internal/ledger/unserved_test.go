package ledger_test

import (
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// moto answers the two reads it has not implemented (DescribeKinesisStreamingDestination,
// DescribeContributorInsights) with a 500: the record names them unread after one question
// each, not after every attempt the retryer allows (four here without the fix; each retry is one
// more chance, on a loaded machine, to lose the body that says "not implemented"). An answer that was lost on the way is still
// asked again: dropped by the fault proxy (the one stand-in here; moto drops nothing on its own).
func TestAnUnservedReadIsAskedOnceAndALostAnswerAgain(t *testing.T) {
	lease := moto.Lease(t)
	lease.SetEnv(t)
	fixture.NewCloud(t, lease.Region).CreateTable(t, "unserved-reads", nil, false)
	for _, tc := range []struct {
		name   string
		faults faultproxy.Faults
		want   int64 // DescribeKinesisStreamingDestination questions that reached moto
	}{
		{"answered", faultproxy.Faults{}, 1},
		{"the first answer lost", faultproxy.Faults{DropAfter: 1, Times: 1, Operations: []string{"DescribeKinesisStreamingDestination"}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := faultproxy.Start(os.Getenv("AWS_ENDPOINT_URL"), tc.faults)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion(lease.Region), config.WithBaseEndpoint(p.URL))
			if err != nil {
				t.Fatal(err)
			}
			_, c, err := ledger.Capture(t.Context(), dynamodb.NewFromConfig(cfg), applicationautoscaling.NewFromConfig(cfg), "unserved-reads")
			if err != nil {
				t.Fatalf("capture: %v", err)
			}
			if !slices.Contains(c.Unread, ledger.PartKinesis) || !slices.Contains(c.Unread, ledger.PartContributorInsights) {
				t.Errorf("unread %v, want Kinesis and contributor insights named", c.Unread)
			}
			f := p.Counts().Forwarded
			if f["DescribeKinesisStreamingDestination"] != tc.want || f["DescribeContributorInsights"] != 1 {
				t.Errorf("moto was asked DescribeKinesisStreamingDestination %d times (want %d), DescribeContributorInsights %d (want 1)",
					f["DescribeKinesisStreamingDestination"], tc.want, f["DescribeContributorInsights"])
			}
		})
	}
}

package sweep

// Regions are the commercial ("aws" partition) regions where DynamoDB runs, written down on
// 2026-11-25 from the endpoint list of aws-sdk-go-v2 service/dynamodb v1.74.0
// (internal/endpoints, FIPS endpoints and "local" left out). The SDK keeps that list internal,
// and ec2:DescribeRegions would need another module and another permission. Opt-in regions an
// account has not enabled answer with an authentication error; --all-regions notes and skips
// them (discover.RegionClosed).
func Regions() []string {
	return []string{
		"af-south-1",
		"ap-east-1", "ap-east-2",
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2",
		"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ca-central-1", "ca-west-1",
		"eu-central-1", "eu-central-2",
		"eu-north-1",
		"eu-south-1", "eu-south-2",
		"eu-west-1", "eu-west-2", "eu-west-3",
		"il-central-1",
		"me-central-1", "me-south-1",
		"mx-central-1",
		"sa-east-1",
		"us-east-1", "us-east-2",
		"us-west-1", "us-west-2",
	}
}

package pricelist

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// MaxAge is how long a region's price list is kept on disk before it is read again.
const MaxAge = 30 * 24 * time.Hour

// maxCacheBytes bounds a cache file read: a region's two entries are a few KiB.
const maxCacheBytes = 256 << 10

const cacheVersion = 1

// cacheFile is one region's price list as read from the API.
type cacheFile struct {
	Version int    `json:"version"`
	Region  string `json:"region"`
	// Endpoint is the endpoint URL the configuration set when it was read; empty for AWS's own.
	Endpoint string        `json:"endpoint,omitempty"`
	Fetched  time.Time     `json:"fetched"`
	Entries  []cost.Prices `json:"entries"`
}

// CacheDir is where price lists are kept: the user's cache directory (os.UserCacheDir:
// $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS), wallet-dynamodb/prices.
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "wallet-dynamodb", "prices"), nil
}

// cachePath is dynamodb-REGION.json for AWS's own price list, dynamodb-REGION-HASH.json for one
// read from an endpoint the configuration sets (HASH: of its URL).
func cachePath(dir, region, endpoint string) string {
	if endpoint == "" {
		return filepath.Join(dir, "dynamodb-"+region+".json")
	}
	sum := sha256.Sum256([]byte(endpoint))
	return filepath.Join(dir, fmt.Sprintf("dynamodb-%s-%x.json", region, sum[:6]))
}

// readCache is the region's cached price list when it is fresh, read from the same endpoint, and
// every figure in it passes the checks an answer of the API passes; else why not. The file is
// opened without following a symlink and read only if it is a regular file of bounded size, the
// user's own and writable by nobody else, so that a FIFO, /dev/zero, a link or a file another
// user planted there is never read, let alone trusted.
func readCache(dir, region, endpoint string, now time.Time) ([]cost.Prices, time.Time, error) {
	path := cachePath(dir, region, endpoint)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, time.Time{}, err
	case !st.Mode().IsRegular():
		return nil, time.Time{}, fmt.Errorf("%s is not a regular file", path)
	case st.Size() > maxCacheBytes:
		return nil, time.Time{}, fmt.Errorf("%s is larger than %d bytes", path, maxCacheBytes)
	case st.Mode().Perm()&0o022 != 0:
		return nil, time.Time{}, fmt.Errorf("%s is writable by others (%s)", path, st.Mode().Perm())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return nil, time.Time{}, fmt.Errorf("%s belongs to uid %d, not to this user", path, sys.Uid)
	}
	body, err := io.ReadAll(io.LimitReader(f, maxCacheBytes+1))
	if err != nil {
		return nil, time.Time{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var c cacheFile
	if err := dec.Decode(&c); err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: not a price list cache: %v", path, err)
	}
	switch {
	case c.Version != cacheVersion:
		return nil, time.Time{}, fmt.Errorf("%s: version %d, want %d", path, c.Version, cacheVersion)
	case c.Region != region:
		return nil, time.Time{}, fmt.Errorf("%s: holds region %q", path, c.Region)
	case c.Endpoint != endpoint:
		return nil, time.Time{}, fmt.Errorf("%s: read from endpoint %q, not %q", path, c.Endpoint, endpoint)
	case c.Fetched.After(now.Add(time.Hour)):
		return nil, time.Time{}, fmt.Errorf("%s: fetched in the future (%s)", path, c.Fetched.Format(time.RFC3339))
	case now.Sub(c.Fetched) > MaxAge:
		return nil, time.Time{}, errStale
	case len(c.Entries) != 2:
		return nil, time.Time{}, fmt.Errorf("%s: %d entries, want one per class", path, len(c.Entries))
	}
	for i, class := range []wallet.TableClass{wallet.ClassStandard, wallet.ClassStandardIA} {
		e := c.Entries[i]
		if e.Region != region || e.Class != class {
			return nil, time.Time{}, fmt.Errorf("%s: entry %d is %s %s, want %s %s", path, i, e.Region, e.Class, region, class)
		}
		for _, s := range cost.Specs() {
			if _, err := cost.ParsePrice(fmt.Sprint(s.Of(e))); err != nil && s.Of(e) != 0 {
				return nil, time.Time{}, fmt.Errorf("%s: %s: %v", path, s.Unit, err)
			}
		}
		for _, r := range e.Reserved {
			for _, v := range []float64{r.RCUUpfront, r.RCUHour, r.WCUUpfront, r.WCUHour} {
				if !(v >= 0 && v <= cost.MaxPrice) {
					return nil, time.Time{}, fmt.Errorf("%s: a reservation price of %g", path, v)
				}
			}
		}
	}
	if err := plausible(c.Entries); err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: %v", path, err)
	}
	return c.Entries, c.Fetched, nil
}

var errStale = errors.New("older than 30 days")

// writeCache keeps the region's price list, written whole or not at all: to a temporary file in
// the same directory, synced, then renamed over the old one, so that a kill at any moment leaves
// the old file or the new one, never half of one.
func writeCache(dir, region, endpoint string, entries []cost.Prices, fetched time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	body, err := json.MarshalIndent(cacheFile{Version: cacheVersion, Region: region, Endpoint: endpoint, Fetched: fetched.UTC(), Entries: entries}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".dynamodb-"+region+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up a failed write
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), cachePath(dir, region, endpoint))
}

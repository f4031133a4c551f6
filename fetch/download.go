package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/pipe-ml/pipe/data"
)

const partialSuffix = ".partial"

// Limits on waiting for the network, variables so that tests can make them
// short. Every loop below is bounded by attemptsPerURL and the URL list.
var (
	connectTimeout = 30 * time.Second // TCP connect, and TLS handshake
	headerTimeout  = 60 * time.Second // request sent -> response headers
	stallTimeout   = 60 * time.Second // no byte of the body for this long
	attemptsPerURL = 4                // tries at one URL when the transfer breaks
	retryPause     = 2 * time.Second  // times the attempt number, between tries
)

// downloader fetches files over HTTP(S), resuming partial downloads.
type downloader struct {
	client *http.Client
	log    io.Writer
	bar    io.Writer
}

func newDownloader(opt Options) *downloader {
	dialer := &net.Dialer{Timeout: connectTimeout}
	return &downloader{
		client: &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   connectTimeout,
			ResponseHeaderTimeout: headerTimeout,
			// Ask for the bytes as stored: a transparently decompressed
			// .gz would neither hash to its checksum nor resume by offset.
			DisableCompression: true,
		}},
		log: opt.Log,
		bar: opt.Bar,
	}
}

// fetch puts f, verified, at path. A verified copy already there (left by
// an earlier fetch that failed later on) is kept; a .partial beside it is
// resumed. The URLs are tried in order. Its errors are *data.DataError
// naming the URL, an *offlineError, or an interruption.
func (dl *downloader) fetch(ctx context.Context, f File, path string) error {
	if exists(path) {
		if verify(f, path) == nil {
			logf(dl.log, "%s: already downloaded\n", f.Name)
			return nil
		}
		os.Remove(path)
	}
	partial := path + partialSuffix
	var unreachable, reasons []string
	var failed error
	for i, url := range f.URLs {
		err := dl.fromURL(ctx, f, url, partial)
		if err == nil {
			if err := verify(f, partial); err != nil {
				os.Remove(partial)
				return &data.DataError{Path: url, Err: err}
			}
			logf(dl.log, "%s: checksum verified (%s)\n", f.Name, f.sums())
			return os.Rename(partial, path)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while downloading %s%s", f.Name, kept(partial))
		}
		var u *unreachableError
		if errors.As(err, &u) {
			unreachable, reasons = append(unreachable, url), append(reasons, u.reason)
		} else {
			failed = &data.DataError{Path: url, Err: fmt.Errorf("%w%s", err, kept(partial))}
		}
		if i+1 < len(f.URLs) {
			logf(dl.log, "%s: %s: %v; trying %s\n", f.Name, url, err, f.URLs[i+1])
		}
	}
	if failed != nil {
		return failed
	}
	return &offlineError{urls: unreachable, reasons: reasons, kept: kept(partial)}
}

// fromURL downloads url into partial, retrying a broken transfer from
// where it stopped.
func (dl *downloader) fromURL(ctx context.Context, f File, url, partial string) error {
	for attempt := 1; ; attempt++ {
		err := dl.attempt(ctx, f, url, partial)
		var again *retryError
		if err == nil || !errors.As(err, &again) || attempt >= attemptsPerURL || ctx.Err() != nil {
			return err
		}
		logf(dl.log, "%s: %v; trying again (%d of %d)\n", f.Name, err, attempt+1, attemptsPerURL)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryPause * time.Duration(attempt)):
		}
	}
}

var errStalled = errors.New("stalled")

// attempt is one HTTP request: it appends to partial what the server sends
// after the bytes already there, or starts again when the server ignores
// the Range.
func (dl *downloader) attempt(ctx context.Context, f File, url, partial string) error {
	have := fileSize(partial)
	if f.Size > 0 && have >= f.Size {
		// Complete or longer than it can be: a finished download is
		// verified and renamed at once, so this one is not to be trusted.
		os.Remove(partial)
		have = 0
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("bad URL: %w", err)
	}
	req.Header.Set("User-Agent", "pipe-data-fetch")
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := dl.client.Do(req)
	if err != nil {
		if reason, ok := unreachableReason(err); ok {
			return &unreachableError{reason}
		}
		return &retryError{err}
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch resp.StatusCode {
	case http.StatusOK:
		if have > 0 {
			logf(dl.log, "%s: the server does not resume; starting again\n", f.Name)
		}
		have = 0
		flags |= os.O_TRUNC
	case http.StatusPartialContent:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
			os.Remove(partial)
			return &retryError{fmt.Errorf("the server resumed at the wrong place (%q)", resp.Header.Get("Content-Range"))}
		}
		logf(dl.log, "%s: resuming at %s\n", f.Name, mb(have))
		flags |= os.O_APPEND
	case http.StatusRequestedRangeNotSatisfiable:
		os.Remove(partial)
		return &retryError{errors.New("the server cannot resume this file")}
	default:
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	} else if f.Size > 0 {
		total = f.Size
	}
	if f.Size > 0 && total >= 0 && total != f.Size {
		// It cannot match the checksum: say so before downloading it.
		os.Remove(partial)
		return fmt.Errorf("the server's file has %d bytes, not the %d of the official %s", total, f.Size, f.Name)
	}
	if have == 0 {
		logf(dl.log, "%s: downloading %s (%s)\n", f.Name, url, mb(total))
	}

	out, err := os.OpenFile(partial, flags, 0o644)
	if err != nil {
		return &data.DataError{Path: partial, Err: err}
	}
	// The watchdog cancels the request when no byte arrives for
	// stallTimeout: a dead connection then ends in a retry, not a hang.
	watchdog := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	var w io.Writer = out
	var bar *progressbar.ProgressBar
	if dl.bar != nil {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(dl.bar),
			progressbar.OptionSetDescription(f.Name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		bar.Set64(have)
		w = io.MultiWriter(out, bar)
	} else if dl.log != nil && total >= 10e6 {
		w = io.MultiWriter(out, &quarters{log: dl.log, name: f.Name, done: have, total: total, next: have*4/total + 1})
	}
	limit := int64(1) << 40
	if total >= 0 {
		limit = total - have
	}
	// One byte past the limit is read so that a server sending more than
	// it announced is caught rather than silently cut.
	n, copyErr := io.Copy(w, io.LimitReader(&kickReader{resp.Body, watchdog}, limit+1))
	closeErr := out.Close()
	if bar != nil {
		bar.Finish()
	}
	switch {
	case closeErr != nil:
		return &data.DataError{Path: partial, Err: closeErr}
	case n > limit:
		os.Remove(partial)
		return fmt.Errorf("the server sent more than the %s it announced", mb(total))
	case errors.Is(context.Cause(ctx), errStalled):
		return &retryError{fmt.Errorf("no data for %v at %s", stallTimeout, mb(have+n))}
	case copyErr != nil && ctx.Err() != nil:
		return ctx.Err()
	case copyErr != nil:
		return &retryError{fmt.Errorf("the transfer broke at %s: %v", mb(have+n), copyErr)}
	case total >= 0 && n < limit:
		return &retryError{fmt.Errorf("the connection closed at %s of %s", mb(have+n), mb(total))}
	}
	return nil
}

// quarters prints a plain line at each quarter of a large download, for
// logs that are not a terminal (where a bar would be noise).
type quarters struct {
	log               io.Writer
	name              string
	done, total, next int64
}

func (q *quarters) Write(p []byte) (int, error) {
	q.done += int64(len(p))
	for q.next < 4 && q.done*4 >= q.next*q.total {
		logf(q.log, "%s: %d%% (%s)\n", q.name, q.next*25, mb(q.done))
		q.next++
	}
	return len(p), nil
}

// kickReader resets the stall watchdog whenever bytes arrive.
type kickReader struct {
	r io.Reader
	t *time.Timer
}

func (k *kickReader) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		k.t.Reset(stallTimeout)
	}
	return n, err
}

// rangeStart reads the first byte of "bytes START-END/TOTAL".
func rangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// unreachableReason says whether err means no connection could be made
// (no network, no such host, refused), and why in a few words.
func unreachableReason(err error) (string, bool) {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "cannot resolve " + dns.Name + ": " + dns.Err, true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		if op.Timeout() {
			return "no answer within " + connectTimeout.String(), true
		}
		return op.Err.Error(), true
	}
	return "", false
}

type unreachableError struct{ reason string }

func (e *unreachableError) Error() string { return "cannot connect: " + e.reason }

// retryError is a transfer that may succeed if tried again.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// offlineError is every URL of a file unreachable: most likely no network.
type offlineError struct {
	urls, reasons []string
	kept          string
	byHand, dest  string // filled in by Fetch
}

// Error follows the first URL, which the DataError around it names.
func (e *offlineError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot connect (%s)", e.reasons[0])
	for i := 1; i < len(e.urls); i++ {
		fmt.Fprintf(&b, ", nor to %s (%s)", e.urls[i], e.reasons[i])
	}
	fmt.Fprintf(&b, "; without network, download %s on another machine and copy by hand into %s%c%s", e.byHand, e.dest, os.PathSeparator, e.kept)
	return b.String()
}

// ChecksumError is a file whose checksum is not the recorded one.
type ChecksumError struct {
	Kind, Got, Want string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s checksum is %s, expected %s (the download is corrupt or the source changed); nothing was kept", e.Kind, e.Got, e.Want)
}

// kept tells, as the tail of a message, what the next fetch will resume.
func kept(partial string) string {
	if n := fileSize(partial); n > 0 {
		return fmt.Sprintf(" (%s kept in %s: the same command resumes)", mb(n), partial)
	}
	return ""
}

type sums struct{ md5, sha256 string }

// hashFile reads path once for both checksums.
func hashFile(path string) (sums, error) {
	in, err := os.Open(path)
	if err != nil {
		return sums{}, err
	}
	defer in.Close()
	m, s := md5.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(m, s), in); err != nil {
		return sums{}, err
	}
	return sums{hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil))}, nil
}

// verify checks every checksum recorded for f.
func verify(f File, path string) error {
	got, err := hashFile(path)
	if err != nil {
		return err
	}
	if f.SHA256 != "" && got.sha256 != f.SHA256 {
		return &ChecksumError{Kind: "sha256", Got: got.sha256, Want: f.SHA256}
	}
	if f.MD5 != "" && got.md5 != f.MD5 {
		return &ChecksumError{Kind: "md5", Got: got.md5, Want: f.MD5}
	}
	if f.SHA256 == "" && f.MD5 == "" {
		return errors.New("no checksum is recorded for it, so it cannot be verified")
	}
	return nil
}

func (f File) sums() string {
	var s []string
	if f.SHA256 != "" {
		s = append(s, "sha256")
	}
	if f.MD5 != "" {
		s = append(s, "md5")
	}
	return strings.Join(s, ", ")
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func mb(n int64) string {
	switch {
	case n < 0:
		return "size unknown"
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

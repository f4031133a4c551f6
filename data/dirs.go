package data

import (
	"os"
	"path/filepath"
)

// UserDir picks one of pipe's folders: the flag when given, then the
// environment variable env, then <user cache dir>/pipe/<name>, and ./name
// where the machine has no user cache dir. The data directory (--data-dir,
// PIPE_DATA) and the preprocessed-data cache (--cache-dir, PIPE_CACHE) are
// resolved by it.
func UserDir(flag, env, name string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	if cache, err := os.UserCacheDir(); err == nil {
		return filepath.Join(cache, "pipe", name)
	}
	return name
}

package userns

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

const removeHelper = "remove-all"

func init() {
	RegisterHelper(removeHelper, HelperOptions{}, func(ctx context.Context, arg json.RawMessage, _ io.Reader) (any, error) {
		var path string
		if err := json.Unmarshal(arg, &path); err != nil {
			return nil, err
		}
		return nil, os.RemoveAll(path)
	})
}

// RemoveAll removes path and everything below it. A rootless container or
// layer holds files owned by subordinate ids, which the calling user cannot
// delete; when removal as the caller fails, it is repeated as root in the
// user namespace, where those ids are mapped.
func RemoveAll(ctx context.Context, path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("remove %s: path is not absolute", path)
	}
	err := os.RemoveAll(path)
	if err == nil || !Rootless() {
		return err
	}
	if err := RunHelper(ctx, removeHelper, path, nil, nil); err != nil {
		return fmt.Errorf("remove %s in the user namespace: %w", path, err)
	}
	return nil
}

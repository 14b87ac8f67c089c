package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gocker/gocker/overlay"
	"github.com/gocker/gocker/userns"
)

const applyHelper = "apply-layer"

// applyArgument is what the apply helper receives; the layer stream comes
// on its standard input.
type applyArgument struct {
	Dir       string         `json:"dir"`
	UserXattr bool           `json:"user_xattr"`
	UIDs      []userns.IDMap `json:"uids,omitempty"`
	GIDs      []userns.IDMap `json:"gids,omitempty"`
}

func init() {
	userns.RegisterHelper(applyHelper, userns.HelperOptions{}, runApplyHelper)
}

// runApplyHelper extracts a compressed or plain layer tar from stdin. It
// runs as root in the user namespace (rootless) or in gocker itself (root).
func runApplyHelper(ctx context.Context, raw json.RawMessage, stdin io.Reader) (any, error) {
	var arg applyArgument
	if err := json.Unmarshal(raw, &arg); err != nil {
		return nil, err
	}
	r, err := Decompress(stdin)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return ApplyLayer(ctx, arg.Dir, r, ApplyOptions{
		UserXattr: arg.UserXattr,
		UIDs:      arg.UIDs,
		GIDs:      arg.GIDs,
		Logger:    slog.Default(),
	})
}

// containerRanges returns the container-side ranges of maps, the ids a
// layer may use as owners.
func containerRanges(maps []userns.IDMap) []userns.IDMap {
	out := make([]userns.IDMap, len(maps))
	for i, m := range maps {
		out[i] = userns.IDMap{ContainerID: m.ContainerID, HostID: m.ContainerID, Size: m.Size}
	}
	return out
}

// extractLayer extracts a layer stream into the layer store and returns the
// stored layer. The caller holds the layer store's shared lock. check, when
// not nil, runs after the extraction and before the layer is stored: an
// error from it discards the layer. When the store has the layer already
// (same diff id), the new copy is discarded.
func (s *Store) extractLayer(ctx context.Context, r io.Reader, check func(ApplyResult) error) (_ overlay.Layer, retErr error) {
	tmp, err := s.Layers.TempDir()
	if err != nil {
		return overlay.Layer{}, err
	}
	defer func() {
		if retErr != nil {
			_ = userns.RemoveAll(context.WithoutCancel(ctx), tmp)
		}
	}()
	arg := applyArgument{Dir: tmp + "/diff", UserXattr: userns.Rootless()}
	if userns.Rootless() {
		m, err := userns.LoadMapping()
		if err != nil {
			return overlay.Layer{}, err
		}
		arg.UIDs, arg.GIDs = containerRanges(m.UIDs), containerRanges(m.GIDs)
	}
	var res ApplyResult
	if err := userns.RunHelper(ctx, applyHelper, arg, r, &res); err != nil {
		return overlay.Layer{}, fmt.Errorf("extract layer: %w", err)
	}
	if check != nil {
		if err := check(res); err != nil {
			return overlay.Layer{}, err
		}
	}
	layer := overlay.Layer{DiffID: res.DiffID, Size: res.Size, Created: time.Now().UTC()}
	if err := s.Layers.Commit(ctx, tmp, layer); err != nil {
		return overlay.Layer{}, err
	}
	return layer, nil
}

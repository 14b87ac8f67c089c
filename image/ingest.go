package image

import (
	"context"
	"fmt"
	"io"

	"github.com/gocker/gocker/overlay"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// layerSource is a layer stream to store: a blob as a registry or an
// archive holds it, or a plain tar that gocker compresses.
type layerSource struct {
	r io.Reader
	// mediaType is the blob's media type; ignored when compress is set.
	mediaType types.MediaType
	// digest and diffID are what the manifest and config announce; each
	// is checked when not empty.
	digest, diffID string
	// compress stores the blob gzip-compressed: r is a plain tar.
	compress bool
	// verified means that r fails at its end unless the content has the
	// digest, so the blob is not hashed again.
	verified bool
}

// ingestLayer stores the layer's blob and extracts the layer, in one pass
// over the stream, and returns the blob's descriptor and the layer. The
// caller holds the layer store's shared lock. A blob whose digest or
// uncompressed digest differs from the announced one fails with
// [ErrDigestMismatch] and leaves neither blob nor layer.
func (s *Store) ingestLayer(ctx context.Context, src layerSource) (v1.Descriptor, overlay.Layer, error) {
	var bw *blobWriter
	var err error
	if src.verified && src.digest != "" && !src.compress {
		bw, err = s.newVerifiedBlobWriter(src.digest)
	} else {
		bw, err = s.newBlobWriter()
	}
	if err != nil {
		return v1.Descriptor{}, overlay.Layer{}, err
	}

	var sink io.Writer = bw
	var zw *gzip.Writer
	mediaType := src.mediaType
	if src.compress {
		zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
		sink, mediaType = zw, types.OCILayer
	}
	tee := io.TeeReader(src.r, sink)
	var digest string
	layer, err := s.extractLayer(ctx, tee, func(res ApplyResult) error {
		// The applier may stop reading before the end of a compressed
		// stream; the rest belongs to the blob and its digest.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				return err
			}
		}
		if src.diffID != "" && res.DiffID != src.diffID {
			return fmt.Errorf("%w: layer %s uncompresses to %s, but the image config says %s",
				ErrDigestMismatch, ShortID(bw.Digest()), res.DiffID, src.diffID)
		}
		var err error
		digest, err = bw.Commit(src.digest)
		return err
	})
	if err != nil {
		if digest == "" {
			bw.Abort()
		}
		return v1.Descriptor{}, overlay.Layer{}, err
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return v1.Descriptor{}, overlay.Layer{}, err
	}
	return v1.Descriptor{MediaType: mediaType, Digest: h, Size: bw.size}, layer, nil
}

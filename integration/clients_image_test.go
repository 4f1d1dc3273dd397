package integration

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// rootfsTar writes the busybox root filesystem of newRootfs as a tar file:
// what `podman import` takes, and the one layer of the OCI image that
// `ctr images import` takes.
func rootfsTar(t *testing.T, rootfs, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(rootfs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(rootfs, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatalf("tar %s: %v", rootfs, err)
	}
}

// ociArchive writes an OCI image layout (image-spec: oci-layout,
// index.json, blobs/sha256/...) as a tar file for `ctr images import`: one
// uncompressed layer (layer.tar), a config running sh, and ref as the
// org.opencontainers.image.ref.name annotation, which ctr uses as the
// image's name.
func ociArchive(t *testing.T, layer, ref, out string) {
	t.Helper()
	ociArchiveImages(t, layer, out, ociImage{ref: ref, cmd: []string{"sh"}})
}

// ociImage is one image of an archive: its name and its config's Cmd.
type ociImage struct {
	ref string
	cmd []string
}

// ociArchiveImages is ociArchive with several images, each a manifest of
// the same layer with its own config, named in index.json.
func ociArchiveImages(t *testing.T, layer, out string, images ...ociImage) {
	t.Helper()
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	files := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	var order []string
	add := func(data []byte, mediaType string) desc {
		sum := sha256.Sum256(data)
		name := "blobs/sha256/" + hex.EncodeToString(sum[:])
		if _, ok := files[name]; !ok {
			order = append(order, name)
		}
		files[name] = data
		return desc{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	layerData, err := os.ReadFile(layer)
	if err != nil {
		t.Fatal(err)
	}
	l := add(layerData, "application/vnd.oci.image.layer.v1.tar")
	var manifests []desc
	for _, img := range images {
		c := add(mustJSON(map[string]any{
			"architecture": runtime.GOARCH,
			"os":           "linux",
			"config": map[string]any{
				"Env": []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
				"Cmd": img.cmd,
			},
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{l.Digest}},
		}), "application/vnd.oci.image.config.v1+json")
		m := add(mustJSON(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        c,
			"layers":        []desc{l},
		}), "application/vnd.oci.image.manifest.v1+json")
		m.Annotations = map[string]string{"org.opencontainers.image.ref.name": img.ref}
		manifests = append(manifests, m)
	}
	files["index.json"] = mustJSON(map[string]any{"schemaVersion": 2, "manifests": manifests})
	order = append([]string{"oci-layout", "index.json"}, order...)

	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range order {
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(fmt.Errorf("write %s: %w", out, err))
	}
}

//go:build unix

package htmlreport_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumPath finds Debian's chromium: /usr/bin/chromium or chromium on
// PATH.
func chromiumPath() (string, bool) {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", true
	}
	p, err := exec.LookPath("chromium")
	return p, err == nil
}

// Colours the page uses (see page.tmpl) that a reader of the relabel
// report must see.
var (
	staleFill   = color.RGBA{0xff, 0xcd, 0xd2, 0xff} // a pod disagreeing with spec.replicas
	agreeFill   = color.RGBA{0xc8, 0xe6, 0xc9, 0xff} // a pod in agreement
	overlapFill = color.RGBA{0x8e, 0x24, 0xaa, 0xff} // the overlap band
	gapFill     = color.RGBA{0xe5, 0x39, 0x35, 0xff} // the gap band
	failedFill  = color.RGBA{0xfb, 0xe9, 0xe7, 0xff} // a KSM pod that exited
	firingFill  = color.RGBA{0xd5, 0x00, 0x00, 0xff} // an alert firing (time axis)
)

// colour is one colour a screenshot must show, and its name.
type colour struct {
	name string
	rgba color.RGBA
}

// TestBrowserScreenshot renders the relabel report in headless Chromium
// and checks the screenshot is a real picture, not a blank page: many
// distinct colours, a good share of non-white pixels, and the colours of
// stale pods, agreeing pods and the overlap band all visible (the
// label-selector pods out of agreement after the scale). It skips only
// where Chromium is not installed.
func TestBrowserScreenshot(t *testing.T) {
	screenshot(t, "relabel", render(t, replay(t, filepath.Join(traceDir, "relabel.json"))), 900,
		[]colour{{"stale pod", staleFill}, {"agreeing pod", agreeFill}, {"overlap band", overlapFill}})
}

// TestBrowserScreenshotNodes renders the mixed trace's report (ConfigMaps
// by autosharding, pods by DaemonSet sharding) and checks the screenshot
// shows both groups of lanes: the stale ConfigMap pods and their overlap,
// the node lanes in agreement, the exited unscheduled pods' Deployment
// and the pods' gap.
func TestBrowserScreenshotNodes(t *testing.T) {
	screenshot(t, "mixed-relabel", render(t, replay(t, filepath.Join(traceDir, "daemonset", "mixed-relabel.json"))), 1100,
		[]colour{{"stale pod", staleFill}, {"agreeing pod or node", agreeFill}, {"overlap band", overlapFill},
			{"gap band", gapFill}, {"exited KSM pod", failedFill}})
}

// TestBrowserScreenshotTimeline renders the relabel report with a
// timeline and alerts (withAlerts) and checks the screenshot shows the
// time axis's parts: the stale and agreeing pods, the overlap of the
// label selector and the gap of the field selector during the scale, and
// the firing alerts' bars.
func TestBrowserScreenshotTimeline(t *testing.T) {
	rep := replayTimed(t, filepath.Join(traceDir, "relabel.json"))
	withAlerts(t, rep)
	screenshot(t, "relabel-timeline", render(t, rep), 1400,
		[]colour{{"stale pod", staleFill}, {"agreeing pod", agreeFill}, {"overlap band", overlapFill},
			{"gap band", gapFill}, {"firing alert", firingFill}})
}

// screenshot renders page in headless Chromium (1200 pixels wide, height
// high) and checks the picture is not blank and shows each colour of want
// on at least 500 pixels. It skips only where Chromium is not installed.
func screenshot(t *testing.T, name string, out []byte, height int, want []colour) {
	t.Helper()
	chromium, ok := chromiumPath()
	if !ok {
		t.Skip("chromium not installed: apt-get install chromium; .ci/run installs it")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, name+".html")
	shot := filepath.Join(dir, name+".png")
	if err := os.WriteFile(page, out, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile := filepath.Join(dir, "profile")
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars",
		"--user-data-dir="+profile,
		"--screenshot="+shot, fmt.Sprintf("--window-size=1200,%d", height),
		"file://"+page)
	cmd.Dir = dir
	// Keep Chromium's caches and config in the temporary directory.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
	// Chromium starts helper processes: on timeout kill the whole group,
	// and do not wait forever for helpers holding the output pipe.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	logs, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish within 60 s; output:\n%s", logs)
	}
	if err != nil {
		t.Fatalf("chromium: %v; output:\n%s", err, logs)
	}

	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v; chromium output:\n%s", err, logs)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode the screenshot: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 800 || b.Dy() < 600 {
		t.Fatalf("screenshot is %dx%d, want about 1200x%d", b.Dx(), b.Dy(), height)
	}
	st := pixelStats(img, want)
	var counts []string
	for _, c := range want {
		counts = append(counts, fmt.Sprintf("%s %d px", c.name, st.count[c.rgba]))
	}
	t.Logf("screenshot %dx%d: %d distinct colours, %.1f%% non-white; %s",
		b.Dx(), b.Dy(), st.distinct, 100*st.nonWhite, strings.Join(counts, ", "))
	if st.distinct < 50 {
		t.Errorf("only %d distinct colours: the page looks blank", st.distinct)
	}
	if st.nonWhite < 0.05 {
		t.Errorf("only %.1f%% of the pixels are not white: the page looks blank", 100*st.nonWhite)
	}
	for _, c := range want {
		if st.count[c.rgba] < 500 {
			t.Errorf("%s colour #%02x%02x%02x covers %d pixels, want at least 500",
				c.name, c.rgba.R, c.rgba.G, c.rgba.B, st.count[c.rgba])
		}
	}
	if t.Failed() {
		keep := filepath.Join(os.TempDir(), "shardsim-"+name+"-screenshot.png")
		if data, err := os.ReadFile(shot); err == nil && os.WriteFile(keep, data, 0o644) == nil {
			t.Logf("screenshot kept at %s", keep)
		}
	}
}

type stats struct {
	distinct int
	nonWhite float64
	count    map[color.RGBA]int
}

// pixelStats counts distinct colours, the share of non-white pixels and
// the pixels of each exact colour (within a small tolerance, for colour
// conversion) that the test looks for.
func pixelStats(img image.Image, want []colour) stats {
	b := img.Bounds()
	seen := map[color.RGBA]bool{}
	st := stats{count: map[color.RGBA]int{}}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			if c.R < 245 || c.G < 245 || c.B < 245 {
				nonWhite++
			}
			for _, w := range want {
				if near(c, w.rgba) {
					st.count[w.rgba]++
				}
			}
		}
	}
	st.distinct = len(seen)
	st.nonWhite = float64(nonWhite) / float64(b.Dx()*b.Dy())
	return st
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= 3 && d(a.G, b.G) <= 3 && d(a.B, b.B) <= 3
}

package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkTransfer uploads a document through the API to a real
// paraphe-exchange process, which seals it as it streams in, then
// downloads it back, and reports the server's peak resident memory
// (VmHWM): it must not grow with the document (1 MiB and 1 GiB are run;
// make bench prints both). The document is not a PDF, so no verification
// runs; the password checks (Argon2id, 19 MiB) are part of the peak.
//
//	go test -run '^$' -bench Transfer -benchtime 1x ./exchange
func BenchmarkTransfer(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "paraphe-exchange")
	build := exec.Command("go", "build", "-o", bin, "github.com/paraphe/paraphe/cmd/paraphe-exchange")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, size := range []int64{1 << 20, 1 << 30} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(2 * size)
			for range b.N {
				b.StopTimer()
				s := startServer(b, bin)
				b.StartTimer()
				s.roundTrip(b, size)
				b.StopTimer()
				b.ReportMetric(float64(s.peak(b))/1024, "server-peak-MiB")
				s.stop(b)
				b.StartTimer()
			}
		})
	}
}

// benchServer is a paraphe-exchange serve process, with a professional's
// and a client's API tokens.
type benchServer struct {
	cmd           *exec.Cmd
	url           string
	pro, client   string // tokens
	clientCode    string
	stderr        io.ReadCloser
	documentsPath string
}

func startServer(b *testing.B, bin string) *benchServer {
	b.Helper()
	dir := b.TempDir()
	if err := Init(dir, InitOptions{}); err != nil {
		b.Fatal(err)
	}
	x, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	account := func(n NewUser) *User {
		u, link, _, err := x.AddUser(ctx, n)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := x.AcceptInvitation(ctx, link[strings.LastIndex(link, "/")+1:], testPassword, testPassword, "bench"); err != nil {
			b.Fatal(err)
		}
		return u
	}
	pro := account(NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne"})
	client := account(NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul", Manager: pro.Code})
	x.Close()
	s := &benchServer{cmd: exec.Command(bin, "serve", "--dir", dir, "--addr", "127.0.0.1:0"), clientCode: client.Code, documentsPath: filepath.Join(dir, dirDocuments)}
	s.stderr, _ = s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(s.stderr).ReadString('\n')
	var first struct{ URL string }
	if err != nil || json.Unmarshal([]byte(line), &first) != nil || first.URL == "" {
		b.Fatalf("the server said %q: %v", line, err)
	}
	go io.Copy(io.Discard, s.stderr)
	s.url = first.URL
	s.pro, s.client = s.token(b, pro.Email), s.token(b, client.Code)
	return s
}

func (s *benchServer) token(b *testing.B, login string) string {
	b.Helper()
	body, _ := json.Marshal(TokenRequest{Login: login, Password: testPassword})
	resp, err := http.Post(s.url+"/api/v1/token", "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var t TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil || t.Token == "" {
		b.Fatalf("token: %s, %v", resp.Status, err)
	}
	return t.Token
}

// roundTrip sends size pseudo-random bytes and fetches them back, hashed
// on both sides (nothing of them is held whole, here either).
func (s *benchServer) roundTrip(b *testing.B, size int64) {
	b.Helper()
	sent := sha256.New()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("recipient", s.clientCode)
		mw.WriteField("title", "bench")
		part, _ := mw.CreateFormFile("document", "big.bin")
		src := io.LimitReader(rand.NewChaCha8([32]byte{1}), size)
		_, err := io.Copy(io.MultiWriter(part, sent), src)
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/parcels", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.pro)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	var p SentParcel
	err = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || len(p.Documents) != 1 {
		b.Fatalf("upload: %s, %v", resp.Status, err)
	}
	req, _ = http.NewRequest(http.MethodGet, s.url+"/api/v1/parcels/"+p.ID+"/documents/"+p.Documents[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+s.client)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		b.Fatalf("download: %d of %d bytes, %v; same bytes: %v", n, size, err, bytes.Equal(got.Sum(nil), sent.Sum(nil)))
	}
}

// peak is the server's peak resident set, in KiB.
func (s *benchServer) peak(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Skip("no /proc: the peak RSS is read from Linux's VmHWM")
	}
	var kb int64
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
		}
	}
	return kb
}

func (s *benchServer) stop(b *testing.B) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	s.cmd.Wait()
	os.RemoveAll(s.documentsPath)
}

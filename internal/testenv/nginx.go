package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NginxVar set to 1 makes the nginx tests fail, instead of skipping,
// when nginx is not installed.
const NginxVar = "KEYWARD_TEST_NGINX"

// NginxPath returns the nginx binary. Without one the test is skipped,
// or fails when KEYWARD_TEST_NGINX=1 or Strict.
func NginxPath(tb testing.TB) string {
	tb.Helper()
	return binary(tb, "nginx", NginxVar, "apt-get install nginx-light", "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
}

// Nginx runs nginx as a child process on a free loopback port, with a
// configuration made of server, the body of one http server block (its
// listen directive is added), in a temporary prefix that holds its pid,
// logs and temporary files. It returns nginx's base URL and stops nginx
// when the test ends. When the test fails, it logs nginx's error log,
// from which token-like strings are removed.
func Nginx(tb testing.TB, server string) string {
	tb.Helper()
	bin := NginxPath(tb)
	prefix := tb.TempDir()
	port := freePort(tb)
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise switch to a user that cannot reach the
		// temporary prefix.
		user = "user root;"
	}
	conf := fmt.Sprintf(`# keyward test nginx
%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 512; }
http {
	access_log %[2]s/access.log;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server {
		listen 127.0.0.1:%[3]d;
%[4]s
	}
}
`, user, prefix, port, server)
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath, "-p", prefix+"/", "-g", "daemon off;")
	c := startChild(tb, "nginx", cmd, filepath.Join(prefix, "stderr.log"), syscall.SIGQUIT, func() string { return NginxLog(prefix) })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c.waitReady(tb, 15*time.Second, 20*time.Millisecond, listening(addr))
	return "http://" + addr
}

// tokenLike matches anything that could be a token, for logs shown in
// test output.
var tokenLike = regexp.MustCompile(`[A-Za-z0-9]+_(pat|oat|key|agt|prb)_[A-Za-z0-9]+`)

// NginxLog returns nginx's error log and output in prefix, with token-like
// strings replaced.
func NginxLog(prefix string) string {
	var b strings.Builder
	for _, name := range []string{"error.log", "stderr.log"} {
		data, _ := os.ReadFile(filepath.Join(prefix, name))
		b.WriteString(tokenLike.ReplaceAllString(string(data), "[token]"))
	}
	return b.String()
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

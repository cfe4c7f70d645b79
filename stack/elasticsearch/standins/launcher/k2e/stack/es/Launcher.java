package k2e.stack.es;

import org.elasticsearch.bootstrap.ServerArgs;
import org.elasticsearch.common.io.stream.OutputStreamStreamOutput;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Stand-in for Elasticsearch's server-cli (not published on Maven Central).
 *
 * The server process (org.elasticsearch.bootstrap.Elasticsearch) reads a serialized ServerArgs from
 * its stdin and afterwards treats stdin as a control channel: EOF or a broken pipe stops the node
 * (exit 1), the byte 0x1b stops it with exit 0. So this program is meant to be piped into the server:
 *
 *   java -cp "ES_HOME/lib/*:ES_HOME/lib/tools/k2e-launcher/*" k2e.stack.es.Launcher ES_HOME [--exit-on-stdin-eof] [key=value ...]
 *
 * It writes the args to stdout, then keeps stdout open until
 *   - it receives SIGTERM/SIGINT: it sends the shutdown byte, so the node stops cleanly with exit 0;
 *   - its parent process exits (the server, when run.sh execs it with this program as a process substitution);
 *   - its own stdin reaches EOF, if --exit-on-stdin-eof is given.
 * key=value arguments override settings from ES_HOME/config/elasticsearch.yml (like -E).
 * No keystore file is read or written: an in-memory keystore with a fresh bootstrap seed is sent.
 */
public final class Launcher {
    private static final int SHUTDOWN_MARKER = 0x1b; // BootstrapInfo.SERVER_SHUTDOWN_MARKER

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: Launcher ES_HOME [--exit-on-stdin-eof] [key=value ...]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath().normalize();
        boolean exitOnStdinEof = false;
        Map<String, String> overrides = new HashMap<>();
        overrides.put("path.home", home.toString());
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--exit-on-stdin-eof")) {
                exitOnStdinEof = true;
                continue;
            }
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got: " + args[i]);
            }
            overrides.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        // Same steps as the real CLI: yml + overrides -> Environment; then a keystore with a bootstrap seed.
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            Settings.EMPTY, overrides, home.resolve("config"), Launcher::defaultNodeName);
        KeyStoreWrapper keystore = KeyStoreWrapper.create();
        KeyStoreWrapper.addBootstrapSeed(keystore);
        ServerArgs serverArgs = new ServerArgs(false, false, null, keystore, env.settings(), env.configDir(), env.logsDir());

        // Raw fd 1: System.out must not be used for anything else from here on.
        OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
        OutputStreamStreamOutput streamOut = new OutputStreamStreamOutput(stdout);
        serverArgs.writeTo(streamOut);
        streamOut.flush();
        // From here on this JVM only idles: let it give back the heap it used for parsing settings.
        System.gc();

        // On SIGTERM/SIGINT (and on any other exit) ask the server to stop cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                stdout.write(SHUTDOWN_MARKER);
                stdout.flush();
            } catch (IOException ignored) {
                // server already gone
            }
        }, "k2e-launcher-shutdown"));

        if (exitOnStdinEof) {
            Thread stdinWatch = new Thread(() -> {
                try {
                    while (System.in.read() != -1) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // treat like EOF
                }
                System.exit(0);
            }, "k2e-launcher-stdin");
            stdinWatch.setDaemon(true);
            stdinWatch.start();
        }

        // Stay alive while the parent process lives (then the pipe is useless anyway).
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
        while (parent == null || parent.isAlive()) {
            Thread.sleep(500);
        }
        System.exit(0);
    }

    private static String defaultNodeName() {
        String host = System.getenv("HOSTNAME");
        return host == null || host.isBlank() ? "k2e-es" : host;
    }
}

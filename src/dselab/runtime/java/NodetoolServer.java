/*
 * dselab's warm nodetool: one long-lived JVM per cluster and client that runs a nodetool
 * in-process and answers with its exact text.
 *
 *   java <nodetool's JVM flags> -Djava.security.manager=allow -cp <dir>:<conf>:<cassandra lib>/* \
 *        NodetoolServer <socket> <cluster root> <idle seconds> <workers> [<entry class> [client-init]]
 *
 * The entry class is the one whose main(String[]) the cold JVM runs: Cassandra's own
 * org.apache.cassandra.tools.NodeTool (the default), or LegacyNodetool, the launcher of the DSE 5.1
 * generation's nodetool (Cassandra 3.11's: its jars on the classpath, the launcher's classes too).
 * Running the cold JVM's own main keeps every stack frame a cold trace shows. "client-init" calls
 * DatabaseDescriptor.clientInitialization() once at start, as that launcher does before each run
 * (a second call is a no-op), and loads FileUtils, whose un-mmaper warning then goes to the log.
 *
 * Listens on a Unix socket (its folder is the owner's, 0700; the socket 0600), serves only peers of
 * its own user (SO_PEERCRED), and exits when idle, when its socket is removed or replaced, or when
 * no node of its cluster runs. Compiled on first use by dselab.runtime.nodetool_server, which also
 * holds the protocol's other half:
 *
 *   request:  "DNT1" u32 timeout_ms  u32 argc  argc x (u32 length, UTF-8 bytes)
 *   reply:    "DNT1" u8 status  i32 exit code  u32 length, stdout bytes  u32 length, stderr bytes
 *   status:   0 ran, 1 busy (not run), 2 timed out, 3 refused (not run), 4 escaped (see below)
 *
 * What makes the in-process run the same as `java ... NodeTool ARGS`:
 *  - each request runs the entry's main itself (NodeTool.main, directly or through the 3.11
 *    launcher), on a thread of its own named "main";
 *  - System.out and System.err are routed per request thread, so nodetool's Output.CONSOLE (made
 *    from them when it loaded) and the commands that print to System.out (Info) reach the
 *    request's capture, in the JVM's default charset as a JVM's stdout would be;
 *  - System.exit (main's own last call, and NodeTool's connect failure, Status, DescribeCluster,
 *    ...) is trapped by a SecurityManager: the request's exit code becomes that status and
 *    whatever the command prints after it is dropped, as a process that exits prints nothing more;
 *  - stack traces (`error: ...` / `-- StackTrace --`) show one frame a JVM's would not, the
 *    runner thread's run(): it is taken out (and "... N more" counted without it);
 *  - an exception escaping main (NodeTool.err rethrows "Server is not initialized yet") would be
 *    a JVM's uncaught-exception text: status 4 asks the client to run that one cold.
 * The JVM's jdk.serialFilter (nodetool_jvm.py) is a JVM-wide setting: it guards every request.
 */

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.Permission;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

public final class NodetoolServer
{
    static final byte[] MAGIC = "DNT1".getBytes(StandardCharsets.US_ASCII);
    static final int RAN = 0, BUSY = 1, TIMED_OUT = 2, REFUSED = 3, ESCAPED = 4;
    static final int MAX_ARGS = 256, MAX_ARG_BYTES = 1 << 16, MAX_OUTPUT_BYTES = 64 << 20;
    static final int MAX_CONNECTIONS = 32;
    static final long TICK_MS = 2000;

    static final ThreadLocal<Request> CURRENT = new ThreadLocal<>();
    static volatile boolean exiting = false;
    static final AtomicInteger inFlight = new AtomicInteger();
    static volatile long lastActive = System.nanoTime();
    static final Charset CHARSET = Charset.defaultCharset();
    static final String NODETOOL = "org.apache.cassandra.tools.NodeTool";
    static MethodHandle entry;  // main(String[]) of the entry class, set once before the first request

    /** One nodetool run: its captured streams, and the exit a trapped System.exit asked for. */
    static final class Request
    {
        final Capture outBytes = new Capture(this), errBytes = new Capture(this);
        final String[] argv;
        volatile Integer exitCode;  // set by System.exit
        volatile boolean frozen;    // after an exit or a timeout nothing more is kept
        volatile Throwable escaped; // what left NodeTool.main other than a trapped exit

        Request(String[] argv) { this.argv = argv; }
    }

    static final class Capture extends OutputStream
    {
        final Request owner;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Capture(Request owner) { this.owner = owner; }

        @Override public synchronized void write(int b)
        {
            if (!owner.frozen && bytes.size() < MAX_OUTPUT_BYTES)
                bytes.write(b);
        }

        @Override public synchronized void write(byte[] b, int off, int len)
        {
            if (!owner.frozen && bytes.size() < MAX_OUTPUT_BYTES)
                bytes.write(b, off, Math.min(len, MAX_OUTPUT_BYTES - bytes.size()));
        }

        synchronized byte[] taken() { return bytes.toByteArray(); }
    }

    /** System.out / System.err: the running request's stream on its thread, the server's log elsewhere. */
    static final class Routed extends OutputStream
    {
        final PrintStream fallback;
        final boolean isOut;

        Routed(PrintStream fallback, boolean isOut) { this.fallback = fallback; this.isOut = isOut; }

        OutputStream target()
        {
            Request r = CURRENT.get();
            return r == null ? fallback : (isOut ? r.outBytes : r.errBytes);
        }

        @Override public void write(int b) throws IOException { target().write(b); }
        @Override public void write(byte[] b, int off, int len) throws IOException { target().write(b, off, len); }
        @Override public void flush() throws IOException { target().flush(); }
    }

    static final class ExitTrapped extends SecurityException
    {
        ExitTrapped(int status) { super("nodetool asked to exit with status " + status); }
    }

    /** Permits everything but an exit asked for by a command: the server alone ends its JVM. */
    static final class ExitTrap extends SecurityManager
    {
        @Override public void checkPermission(Permission perm) { }
        @Override public void checkPermission(Permission perm, Object context) { }

        @Override public void checkExit(int status)
        {
            if (exiting)
                return;
            Request r = CURRENT.get();
            if (r != null && r.exitCode == null)
            {
                r.exitCode = status;
                r.frozen = true;
            }
            throw new ExitTrapped(status);
        }
    }

    public static void main(String[] args) throws Exception
    {
        if (args.length < 4 || args.length > 6 || (args.length == 6 && !"client-init".equals(args[5])))
        {
            System.err.println("usage: NodetoolServer <socket> <cluster root> <idle seconds> <workers> "
                               + "[<entry class> [client-init]]");
            System.exit(64);
        }
        Path socket = Paths.get(args[0]);
        Path clusterRoot = Paths.get(args[1]);
        long idleNanos = TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
        int workers = Integer.parseInt(args[3]);

        PrintStream log = System.err;
        System.setOut(new PrintStream(new Routed(System.out, true), true, CHARSET));
        System.setErr(new PrintStream(new Routed(System.err, false), true, CHARSET));
        System.setSecurityManager(new ExitTrap());  // Java 17: needs -Djava.security.manager=allow

        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        UserPrincipal owner = Files.getOwner(socket, LinkOption.NOFOLLOW_LINKS);
        Object socketKey = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();

        // Load nodetool's classes now (5.0's Output.CONSOLE takes the routed System.out/err as it
        // loads; 3.11 has no Output and prints to System.out/err directly): the first request is
        // then about as quick as the next.
        if (args.length == 6)
        {
            org.apache.cassandra.config.DatabaseDescriptor.clientInitialization();
            Class.forName("org.apache.cassandra.io.util.FileUtils");
        }
        Class.forName(NODETOOL);
        try
        {
            Class.forName("org.apache.cassandra.tools.Output");
        }
        catch (ClassNotFoundException e)
        {
            // a nodetool older than 4.0
        }
        entry = MethodHandles.publicLookup().findStatic(Class.forName(args.length > 4 ? args[4] : NODETOOL), "main",
                                                        MethodType.methodType(void.class, String[].class));

        Semaphore runners = new Semaphore(workers);
        ExecutorService connections = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 60, TimeUnit.SECONDS,
                                                             new SynchronousQueue<>(), daemon("nodetool-conn"));
        Thread watch = new Thread(() -> watch(server, socket, socketKey, clusterRoot, idleNanos, log), "nodetool-watch");
        watch.setDaemon(true);
        watch.start();
        log.println("nodetool server listening on " + socket + " for " + clusterRoot);

        while (!exiting)
        {
            SocketChannel channel;
            try
            {
                channel = server.accept();
            }
            catch (IOException e)
            {
                if (exiting)
                    break;
                log.println("accept failed: " + e);
                continue;
            }
            try
            {
                connections.execute(() -> answer(channel, owner, runners));
            }
            catch (RejectedExecutionException e)
            {
                channel.close();  // the client sees no reply and runs nodetool cold
            }
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name)
    {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Exit when idle, when the socket is gone or replaced, or when no node of the cluster runs. */
    static void watch(ServerSocketChannel server, Path socket, Object socketKey, Path clusterRoot, long idleNanos,
                      PrintStream log)
    {
        while (true)
        {
            try
            {
                Thread.sleep(TICK_MS);
            }
            catch (InterruptedException e)
            {
                return;
            }
            String why = null;
            boolean busy = inFlight.get() > 0;
            if (!busy && System.nanoTime() - lastActive > idleNanos)
                why = "idle";
            else if (!sameFile(socket, socketKey))
                why = "its socket was removed";
            else if (!anyNodeRuns(clusterRoot))
                why = "no node of its cluster runs";
            if (why == null)
                continue;
            log.println("nodetool server exits: " + why);
            exiting = true;
            try
            {
                server.close();
            }
            catch (IOException ignored)
            {
            }
            if (sameFile(socket, socketKey))
            {
                try
                {
                    Files.deleteIfExists(socket);
                }
                catch (IOException ignored)
                {
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (inFlight.get() > 0 && System.nanoTime() < deadline)
            {
                try
                {
                    Thread.sleep(100);
                }
                catch (InterruptedException e)
                {
                    break;
                }
            }
            System.exit(0);
        }
    }

    static boolean sameFile(Path path, Object key)
    {
        try
        {
            return Objects.equals(key, Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey());
        }
        catch (IOException e)
        {
            return false;
        }
    }

    static boolean anyNodeRuns(Path clusterRoot)
    {
        try (DirectoryStream<Path> nodes = Files.newDirectoryStream(clusterRoot))
        {
            for (Path node : nodes)
            {
                Path pidFile = node.resolve("cassandra.pid");
                if (!Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS) || Files.size(pidFile) > 32)
                    continue;
                try
                {
                    long pid = Long.parseLong(Files.readString(pidFile).trim());
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                        return true;
                }
                catch (NumberFormatException | IOException ignored)
                {
                }
            }
        }
        catch (IOException e)
        {
            return false;
        }
        return false;
    }

    static void answer(SocketChannel channel, UserPrincipal owner, Semaphore runners)
    {
        inFlight.incrementAndGet();
        try (channel)
        {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (peer == null || !owner.equals(peer.user()))
                return;  // only the cluster's owner is served
            InputStream in = Channels.newInputStream(channel);
            DataOutputStream reply = new DataOutputStream(Channels.newOutputStream(channel));
            String[] argv;
            long timeoutMs;
            try
            {
                DataInputStream data = new DataInputStream(in);
                byte[] magic = new byte[MAGIC.length];
                data.readFully(magic);
                if (!java.util.Arrays.equals(magic, MAGIC))
                    throw new IOException("not a DNT1 request");
                timeoutMs = Integer.toUnsignedLong(data.readInt());
                int argc = data.readInt();
                if (argc < 0 || argc > MAX_ARGS)
                    throw new IOException("too many arguments");
                argv = new String[argc];
                for (int i = 0; i < argc; i++)
                {
                    int length = data.readInt();
                    if (length < 0 || length > MAX_ARG_BYTES)
                        throw new IOException("argument too long");
                    byte[] arg = new byte[length];
                    data.readFully(arg);
                    argv[i] = new String(arg, StandardCharsets.UTF_8);
                }
            }
            catch (IOException e)
            {
                send(reply, REFUSED, 0, new byte[0], e.toString().getBytes(StandardCharsets.UTF_8));
                return;
            }
            Request request = new Request(argv);
            if (!runners.tryAcquire())
            {
                send(reply, BUSY, 0, new byte[0], new byte[0]);
                return;
            }
            Runner runner = new Runner(request, runners);
            runner.start();
            runner.join(Math.max(1, timeoutMs));
            int status = RAN;
            int exit = 0;
            if (runner.isAlive())
            {
                request.frozen = true;
                runner.interrupt();
                status = TIMED_OUT;
                exit = -1;
            }
            else if (request.exitCode == null)
            {
                status = ESCAPED;  // main returned without System.exit: not what a JVM would print
                exit = -1;
            }
            else
            {
                exit = request.exitCode;
            }
            send(reply, status, exit, request.outBytes.taken(), withoutRunnerFrames(request.errBytes.taken()));
        }
        catch (IOException | InterruptedException e)
        {
            // the client went away: nothing to answer
        }
        finally
        {
            lastActive = System.nanoTime();
            inFlight.decrementAndGet();
        }
    }

    /**
     * Runs the entry's main (NodeTool.main, or the 3.11 launcher's, which calls it) through a method
     * handle, whose frames no stack trace shows, on a thread of its own named "main", as the
     * nodetool JVM does: main ends in
     * System.exit (trapped: the request's exit code), prints through Output.CONSOLE, whose streams are
     * System.out/err as they were when it loaded, that is the routed ones. The only frame a stack
     * trace shows that a JVM's would not is this run(): withoutRunnerFrames takes it out.
     */
    static final class Runner extends Thread
    {
        final Request request;
        final Semaphore slots;

        Runner(Request request, Semaphore slots)
        {
            super("main");
            setDaemon(true);
            this.request = request;
            this.slots = slots;
        }

        @Override public void run()
        {
            CURRENT.set(request);
            try
            {
                entry.invokeExact(request.argv);
            }
            catch (Throwable t)
            {
                if (request.exitCode == null)
                    request.escaped = t;
            }
            finally
            {
                CURRENT.remove();
                slots.release();
            }
        }
    }

    static final Pattern RUNNER_FRAME = Pattern.compile("\\tat NodetoolServer\\$Runner\\.run\\(NodetoolServer\\.java:\\d+\\)\\r?\\n");
    static final Pattern MORE = Pattern.compile("\\t\\.\\.\\. (\\d+) more(\\r?\\n)");

    /** stderr with the Runner's frame taken out of stack traces, and "... N more" counted without it. */
    static byte[] withoutRunnerFrames(byte[] err)
    {
        String text = new String(err, CHARSET);
        if (!text.contains("NodetoolServer$Runner.run("))
            return err;
        StringBuilder out = new StringBuilder(text.length());
        boolean oursAtBottom = false;
        int start = 0;
        while (start < text.length())
        {
            int end = text.indexOf('\n', start);
            end = end < 0 ? text.length() : end + 1;
            String line = text.substring(start, end);
            start = end;
            if (RUNNER_FRAME.matcher(line).matches())
            {
                oursAtBottom = true;
                continue;
            }
            Matcher more = MORE.matcher(line);
            if (oursAtBottom && more.matches())
            {
                int n = Integer.parseInt(more.group(1)) - 1;
                if (n > 0)
                    out.append("\t... ").append(n).append(" more").append(more.group(2));
                continue;
            }
            if (!line.startsWith("\t") && !line.startsWith("Caused by: ") && !line.startsWith("Suppressed: "))
                oursAtBottom = false;  // a new top-level trace (or plain text)
            out.append(line);
        }
        return out.toString().getBytes(CHARSET);
    }

    static void send(DataOutputStream reply, int status, int exit, byte[] out, byte[] err) throws IOException
    {
        reply.write(MAGIC);
        reply.writeByte(status);
        reply.writeInt(exit);
        reply.writeInt(out.length);
        reply.write(out);
        reply.writeInt(err.length);
        reply.write(err);
        reply.flush();
    }
}

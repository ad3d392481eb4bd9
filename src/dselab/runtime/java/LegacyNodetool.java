/*
 * dselab's launcher for the DSE 5.1 generation's nodetool (Cassandra 3.11's), run on Java 11/17.
 *
 *   java <nodetool's JVM flags> -cp <dir>:<conf>:<cassandra 3.11 lib>/* LegacyNodetool ARGS
 *
 * 3.11's NodeTool.main alone dies on Java 17: FileUtils' static initialiser reaches for
 * sun.misc.Cleaner, and the error handler that follows (JVMStabilityInspector) needs a loaded
 * config. Client initialisation first sets the config up as 3.11's own client tools do; then
 * NodeTool.main runs unchanged (it ends with System.exit, as it always does). The one stack trace
 * left ("Cannot initialize un-mmaper") is logged to stderr while FileUtils loads and is taken
 * out by runtime/legacy_nodetool.py. Compiled on first use, like NodetoolServer.java, whose 3.11
 * server runs this main per request (so a warm stack trace shows this frame as a cold one does).
 */

import org.apache.cassandra.config.DatabaseDescriptor;
import org.apache.cassandra.tools.NodeTool;

public final class LegacyNodetool
{
    private LegacyNodetool()
    {
    }

    public static void main(String[] args)
    {
        DatabaseDescriptor.clientInitialization();
        NodeTool.main(args);
    }
}

-- tradestore schema 2: wake-ups. Any statement that leaves active PENDING tasks
-- behind (a save, an ensure, "run now", an outcome that plans the next run or a
-- retry, a crash recovery) sends one NOTIFY on channel 'tradestore_tasks' when it
-- commits. The payload is the number of milliseconds until the soonest of those
-- tasks is due, by the server's clock (0: due now), so a listener on any host can
-- wake its scheduler at the right moment without trusting its own clock.
-- A claim (PENDING -> RUNNING) leaves no PENDING row behind and sends nothing.
-- One notification per statement (transition tables), and PostgreSQL folds equal
-- payloads of one transaction into one: saving 10,000 due tasks sends one "0".

CREATE FUNCTION tradestore.notify_due() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    soonest timestamptz;
BEGIN
    SELECT min(run_at) INTO soonest FROM changed WHERE is_active AND status = 'pending';
    IF soonest IS NOT NULL THEN
        PERFORM pg_notify('tradestore_tasks', greatest(0, ceil(
            extract(epoch FROM soonest - clock_timestamp()) * 1000))::bigint::text);
    END IF;
    RETURN NULL;
END
$$;

-- A trigger with transition tables may name one event only: one per event.
CREATE TRIGGER tasks_notify_insert AFTER INSERT ON tradestore.tasks
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tradestore.notify_due();
CREATE TRIGGER tasks_notify_update AFTER UPDATE ON tradestore.tasks
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tradestore.notify_due();

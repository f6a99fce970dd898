import { randomUUID } from 'node:crypto';
import { AgentsRepository } from '../src/agents/agents.repository.js';
import { startTestGateway, type TestGateway } from './gateway.js';

const ELB = 'arn:berth:elasticloadbalancing:local:000000000000';

describe('target groups and load balancers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('load-balancing');
  });
  afterAll(async () => gw.close());

  it('creates a target group with ELB defaults, lists and describes it', async () => {
    const res = await gw.http.post('/v1/target-groups').send({
      name: 'web-tg',
      protocol: 'HTTP',
      healthCheck: { path: '/healthz', intervalSeconds: 5, timeoutSeconds: 2 },
    });
    expect(res.status).toBe(200);
    expect(res.body.targetGroupArn).toBe(`${ELB}:targetgroup/web-tg`);
    expect(res.body.targetGroup).toMatchObject({
      targetGroupName: 'web-tg',
      protocol: 'HTTP',
      healthCheckPath: '/healthz',
      healthCheckIntervalSeconds: 5,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: '200' },
      deregistrationDelaySeconds: 30,
      loadBalancerArns: [],
    });
    const { rows } = await gw.sql.query(`SELECT health_check FROM target_group WHERE name = 'web-tg'`);
    expect(rows[0].health_check).toEqual({
      path: '/healthz',
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      matcher: '200',
    });
    await gw.http.post('/v1/target-groups').send({ name: 'db-tg', protocol: 'TCP' }).expect(200);
    const list = await gw.http.get('/v1/target-groups').expect(200);
    expect(list.body.targetGroups.map((t: { targetGroupName: string }) => t.targetGroupName)).toEqual([
      'db-tg',
      'web-tg',
    ]);
    const byArn = await gw.http
      .get(`/v1/target-groups/${encodeURIComponent(`${ELB}:targetgroup/web-tg`)}`)
      .expect(200);
    expect(byArn.body.targetGroup.targetGroupName).toBe('web-tg');
    expect((await gw.http.get('/v1/target-groups/nope')).status).toBe(404);
  });

  it('refuses bad requests naming the field, and a duplicate name with 409', async () => {
    const bad = await gw.http.post('/v1/target-groups').send({ name: 'x', protocol: 'UDP' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^protocol: /);
    const hc = await gw.http
      .post('/v1/target-groups')
      .send({ name: 'x', protocol: 'HTTP', healthCheck: { matcher: 'ok' } });
    expect(hc.status).toBe(400);
    expect(hc.body.message).toMatch(/^healthCheck\.matcher: /);
    const dup = await gw.http.post('/v1/target-groups').send({ name: 'web-tg', protocol: 'HTTP' });
    expect(dup.status).toBe(409);
    expect(dup.body.__type ?? dup.body.code ?? JSON.stringify(dup.body)).toContain(
      'DuplicateTargetGroupName',
    );
  });

  it('creates a load balancer with listeners; ports are unique in it; protocols must agree', async () => {
    const res = await gw.http.post('/v1/load-balancers').send({
      name: 'edge',
      listeners: [
        {
          port: 18000,
          protocol: 'HTTP',
          defaultTargetGroupArn: `${ELB}:targetgroup/web-tg`,
          rules: [{ priority: 10, pathPrefix: '/api', targetGroupArn: 'web-tg' }],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.loadBalancerArn).toBe(`${ELB}:loadbalancer/edge`);
    expect(res.body.loadBalancer.listeners).toEqual([
      {
        listenerArn: `${ELB}:listener/edge/18000`,
        port: 18000,
        protocol: 'HTTP',
        defaultTargetGroupArn: `${ELB}:targetgroup/web-tg`,
        rules: [{ priority: 10, pathPrefix: '/api', targetGroupArn: `${ELB}:targetgroup/web-tg` }],
        proxyProtocol: false,
      },
    ]);
    const { rows } = await gw.sql.query(
      `SELECT l.rules, tg.id FROM listener l JOIN target_group tg ON tg.name = 'web-tg'`,
    );
    expect(rows[0].rules).toEqual([{ priority: 10, pathPrefix: '/api', targetGroupId: rows[0].id }]);

    const dupPort = await gw.http.patch('/v1/load-balancers/edge').send({
      listeners: [
        { port: 18000, protocol: 'HTTP', defaultTargetGroupArn: 'web-tg' },
        { port: 18000, protocol: 'HTTP', defaultTargetGroupArn: 'web-tg' },
      ],
    });
    expect(dupPort.status).toBe(400);
    expect(dupPort.body.message).toMatch(/^listeners\[1\]\.port: /);
    const mismatch = await gw.http.post('/v1/load-balancers').send({
      name: 'edge2',
      listeners: [{ port: 18001, protocol: 'TCP', defaultTargetGroupArn: 'web-tg' }],
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toMatch(/^listeners\[0\]\.defaultTargetGroupArn: /);
    const missing = await gw.http
      .post('/v1/load-balancers')
      .send({ name: 'edge2', listeners: [{ port: 18001, protocol: 'TCP', defaultTargetGroupArn: 'nope' }] });
    expect(missing.status).toBe(404);
    expect(await gw.count(`load_balancer WHERE name = 'edge2'`)).toBe(0);

    const tg = await gw.http.get('/v1/target-groups/web-tg').expect(200);
    expect(tg.body.targetGroup.loadBalancerArns).toEqual([`${ELB}:loadbalancer/edge`]);
  });

  it('modifies listeners, keeping the listener of a port', async () => {
    const before = await gw.sql.query(`SELECT id FROM listener WHERE port = 18000`);
    const res = await gw.http.patch('/v1/load-balancers/edge').send({
      listeners: [
        { port: 18000, protocol: 'HTTP', defaultTargetGroupArn: 'web-tg' },
        { port: 15432, protocol: 'TCP', defaultTargetGroupArn: 'db-tg', proxyProtocol: true },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.loadBalancer.listeners.map((l: { port: number }) => l.port)).toEqual([15432, 18000]);
    const after = await gw.sql.query(`SELECT id FROM listener WHERE port = 18000`);
    expect(after.rows[0].id).toBe(before.rows[0].id);
    const bad = await gw.http
      .patch('/v1/load-balancers/edge')
      .send({ listeners: [{ port: 80, protocol: 'HTTP' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^listeners\[0\]\.defaultTargetGroupArn: /);
    const list = await gw.http.get('/v1/load-balancers').expect(200);
    expect(list.body.loadBalancers).toHaveLength(1);
    await gw.http.get('/v1/load-balancers/edge').expect(200);
  });

  it('registers and deregisters targets by hand; health shows unused, initial, healthy and draining', async () => {
    await gw.http.post('/v1/target-groups').send({ name: 'spare', protocol: 'HTTP' }).expect(200);
    await gw.http
      .post('/v1/target-groups/spare/targets')
      .send({ targets: [{ id: '10.0.0.9', port: 8080 }] })
      .expect(200);
    let health = await gw.http.get('/v1/target-groups/spare/health').expect(200);
    expect(health.body.targetHealthDescriptions).toEqual([
      expect.objectContaining({
        target: { id: '10.0.0.9', port: 8080 },
        targetHealth: expect.objectContaining({ state: 'unused', reason: 'Target.NotInUse' }),
      }),
    ]);

    await gw.http
      .post('/v1/target-groups/web-tg/targets')
      .send({
        targets: [
          { id: '10.0.0.5', port: 8080 },
          { id: '10.0.0.6', port: 8080 },
        ],
      })
      .expect(200);
    health = await gw.http.get('/v1/target-groups/web-tg/health').expect(200);
    expect(
      health.body.targetHealthDescriptions.map(
        (d: { targetHealth: { state: string } }) => d.targetHealth.state,
      ),
    ).toEqual(['initial', 'initial']);
    // The data plane's reports.
    await gw.sql.query(
      `INSERT INTO target_health (target_id, reporter, state, reported_at)
       SELECT id, 'lb-1', 'healthy', now() FROM target WHERE host = '10.0.0.5'`,
    );
    await gw.http
      .post('/v1/target-groups/web-tg/targets/deregister')
      .send({ targets: [{ id: '10.0.0.6', port: 8080 }] })
      .expect(200);
    health = await gw.http.get('/v1/target-groups/web-tg/health').expect(200);
    expect(health.body.targetHealthDescriptions).toEqual([
      expect.objectContaining({ target: { id: '10.0.0.5', port: 8080 }, targetHealth: { state: 'healthy' } }),
      expect.objectContaining({
        target: { id: '10.0.0.6', port: 8080 },
        targetHealth: expect.objectContaining({ state: 'draining' }),
        drainingSince: expect.any(String),
      }),
    ]);
    const bad = await gw.http
      .post('/v1/target-groups/web-tg/targets')
      .send({ targets: [{ id: '10.0.0.5' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^targets\[0\]\.port: /);
  });

  it('takes loadBalancers on CreateService and UpdateService, shows them, and keeps the group from deletion', async () => {
    await gw.http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
    await gw.http
      .post('/v1/task-definitions')
      .send({
        family: 'lbweb',
        containerDefinitions: [
          { name: 'web', image: 'berth/busybox', memory: 32, portMappings: [{ containerPort: 80 }] },
        ],
      })
      .expect(200);
    await gw.http.post('/v1/target-groups').send({ name: 'svc-tg', protocol: 'HTTP' }).expect(200);
    const lb = { targetGroupArn: `${ELB}:targetgroup/svc-tg`, containerName: 'web', containerPort: 80 };
    const refused = [
      [{ ...lb, containerName: 'db' }, 'loadBalancers[0].containerName'],
      [{ ...lb, containerPort: 81 }, 'loadBalancers[0].containerPort'],
      [{ ...lb, targetGroupArn: 'nope' }, 'loadBalancers[0].targetGroupArn'],
    ] as const;
    for (const [entry, field] of refused) {
      const res = await gw.http
        .post('/v1/clusters/default/services')
        .send({ serviceName: 'web', taskDefinition: 'lbweb', desiredCount: 0, loadBalancers: [entry] });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ field });
    }
    expect(await gw.count('service')).toBe(0);

    const created = await gw.http
      .post('/v1/clusters/default/services')
      .send({ serviceName: 'web', taskDefinition: 'lbweb', desiredCount: 0, loadBalancers: [lb] });
    expect(created.status).toBe(200);
    const view = await gw.http.get('/v1/clusters/default/services/web').expect(200);
    expect(JSON.stringify(view.body)).toContain(JSON.stringify({ loadBalancers: [lb] }).slice(1, -1));
    const ecs = await gw.http
      .post('/')
      .set('content-type', 'application/x-amz-json-1.1')
      .set('x-amz-target', 'AmazonEC2ContainerServiceV20141113.DescribeServices')
      .send(JSON.stringify({ cluster: 'default', services: ['web'] }));
    expect(ecs.status).toBe(200);
    expect(JSON.parse(ecs.text).services[0].loadBalancers).toEqual([lb]);

    const inUse = await gw.http.delete('/v1/target-groups/svc-tg');
    expect(inUse.status).toBe(409);
    expect(inUse.body.message).toContain('service web');
    const deployments = async (): Promise<{ id: string; status: string }[]> => {
      const res = await gw.http.get('/v1/clusters/default/services/web').expect(200);
      return (res.body.service ?? res.body).deployments;
    };
    // The same set, in another spelling (a name for the ARN), starts no deployment.
    await gw.http
      .patch('/v1/clusters/default/services/web')
      .send({ loadBalancers: [{ ...lb, targetGroupArn: 'svc-tg' }] })
      .expect(200);
    expect(await deployments()).toHaveLength(1);
    // A new set rolls out, as in ECS: the running tasks keep their targets until replaced.
    await gw.http.patch('/v1/clusters/default/services/web').send({ loadBalancers: [] }).expect(200);
    expect(await gw.count('service_load_balancer')).toBe(0);
    const [primary, previous] = await deployments();
    expect([primary!.status, previous!.status]).toEqual(['PRIMARY', 'ACTIVE']);
    const stillUsed = await gw.http.delete('/v1/target-groups/svc-tg');
    expect(stillUsed.status).toBe(409);
    expect(stillUsed.body.message).toContain(`deployment ${previous!.id} of service web`);
    // The controller completes the rollout: the previous deployment is INACTIVE.
    await gw.sql.query(`UPDATE deployment SET status = 'INACTIVE' WHERE id = $1`, [previous!.id]);
    await gw.http.delete('/v1/target-groups/svc-tg').expect(200);
  });

  it('StopTask drains a task with targets: DEACTIVATING, and sent to its agent as RUNNING until its targets go', async () => {
    await gw.http.post('/v1/target-groups').send({ name: 'drain-tg', protocol: 'HTTP' }).expect(200);
    const instanceId = randomUUID();
    await gw.sql.query(
      `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, agent_connected, updated_at)
       SELECT $1, id, '10.0.0.8', 1024, 1024, true, now() FROM cluster WHERE name = 'default'`,
      [instanceId],
    );
    const run = await gw.http
      .post('/v1/clusters/default/tasks')
      .send({ taskDefinition: 'lbweb' })
      .expect(200);
    const taskId: string = run.body.tasks[0].taskArn.split('/').pop();
    await gw.sql.query(
      `UPDATE task SET container_instance_id = $2, last_status = 'RUNNING', started_at = now() WHERE id = $1`,
      [taskId, instanceId],
    );
    await gw.sql.query(
      `INSERT INTO target (id, target_group_id, task_id, host, port)
       SELECT gen_random_uuid(), id, $1, '10.0.0.8', 32768 FROM target_group WHERE name = 'drain-tg'`,
      [taskId],
    );
    // By hand, it would be registered again while the task runs: refused, saying how.
    const refused = await gw.http
      .post('/v1/target-groups/drain-tg/targets/deregister')
      .send({ targets: [{ id: '10.0.0.8', port: 32768 }] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ field: 'targets[0]' });
    expect(refused.body.message).toContain(`task arn:berth:ecs:local:000000000000:task/default/${taskId}`);
    expect(refused.body.message).toContain(
      `StopTask drains it first: POST /v1/clusters/default/tasks/${taskId}/stop`,
    );
    expect(
      (await gw.sql.query(`SELECT draining_since FROM target WHERE task_id = $1`, [taskId])).rows,
    ).toEqual([{ draining_since: null }]);
    await gw.http.post(`/v1/clusters/default/tasks/${taskId}/stop`).send({ reason: 'by hand' }).expect(200);
    const task = await gw.http.get(`/v1/clusters/default/tasks/${taskId}`).expect(200);
    expect(task.body.task ?? task.body).toMatchObject({
      lastStatus: 'DEACTIVATING',
      desiredStatus: 'STOPPED',
    });
    const health = await gw.http.get('/v1/target-groups/drain-tg/health').expect(200);
    expect(health.body.targetHealthDescriptions[0]).toMatchObject({
      taskArn: `arn:berth:ecs:local:000000000000:task/default/${taskId}`,
      targetHealth: { state: 'draining', reason: 'Target.DeregistrationInProgress' },
    });

    const agents = gw.get(AgentsRepository);
    const sent = async () => (await agents.desiredTasks(instanceId)).find((t) => t.id === taskId)!;
    expect(await sent()).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect((await agents.tasksForAgents([taskId]))[0]).toMatchObject({ desiredStatus: 'RUNNING' });
    // The controller ended the drain.
    await gw.sql.query(`DELETE FROM target WHERE task_id = $1`, [taskId]);
    expect(await sent()).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED' });
  });

  it('refuses to delete a target group a listener uses; deletes a load balancer, then the group', async () => {
    const inUse = await gw.http.delete('/v1/target-groups/db-tg');
    expect(inUse.status).toBe(409);
    expect(inUse.body.message).toContain('load balancer edge');
    await gw.http.delete('/v1/load-balancers/edge').expect(200);
    expect(await gw.count('listener')).toBe(0);
    await gw.http.delete('/v1/target-groups/db-tg').expect(200);
    await gw.http.delete('/v1/target-groups/web-tg').expect(200);
    expect(await gw.count('target')).toBe(1);
    expect((await gw.http.get('/v1/load-balancers/edge')).status).toBe(404);
  });

  it('lets a read-only key describe but not change, and audits the calls', async () => {
    const created = await gw.http
      .post('/v1/access-keys')
      .send({ name: 'ro', managedPolicies: ['BerthReadOnlyAccess'] })
      .expect(200);
    const ro = gw.as(`${created.body.accessKey.accessKeyId}:${created.body.accessKey.secretAccessKey}`);
    expect((await ro.get('/v1/target-groups')).status).toBe(200);
    expect((await ro.get('/v1/target-groups/spare/health')).status).toBe(200);
    expect((await ro.get('/v1/load-balancers')).status).toBe(200);
    const denied = await ro
      .post('/v1/target-groups/spare/targets')
      .send({ targets: [{ id: '10.0.0.7', port: 80 }] });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toContain('elasticloadbalancing:RegisterTargets');
    expect((await ro.delete('/v1/target-groups/spare')).status).toBe(403);
    expect((await ro.post('/v1/load-balancers').send({ name: 'x', listeners: [] })).status).toBe(403);

    const { rows } = await gw.sql.query(
      `SELECT action, resource, outcome FROM audit_event WHERE action LIKE 'elasticloadbalancing:%' ORDER BY event_time`,
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'elasticloadbalancing:CreateTargetGroup', outcome: 'Success' }),
        expect.objectContaining({
          action: 'elasticloadbalancing:RegisterTargets',
          resource: `${ELB}:targetgroup/spare`,
          outcome: 'Success',
        }),
        expect.objectContaining({ action: 'elasticloadbalancing:DeleteLoadBalancer', outcome: 'Success' }),
        expect.objectContaining({
          action: 'elasticloadbalancing:RegisterTargets',
          resource: `${ELB}:targetgroup/spare`,
          outcome: expect.not.stringMatching(/^Success$/),
        }),
      ]),
    );
  });
});

/**
 * What `aws ecs describe-task-definition` prints for family web, revision 7: the definition given
 * (`definition`) with the fields ECS adds on output, which registering it again must drop.
 */
export const describedTaskDefinition = (definition: Record<string, unknown>) => ({
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7',
  family: 'web',
  revision: 7,
  status: 'ACTIVE',
  compatibilities: ['EC2'],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
  registeredAt: '2024-11-03T10:00:00.000Z',
  registeredBy: 'arn:aws:iam::123456789012:user/ci',
  deregisteredAt: null,
  ...definition,
});

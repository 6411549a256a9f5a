// @ts-check
// A local osls plugin (serverless.yml `plugins:`): once `serverless deploy` has deployed the stack, prints the name
// of its CloudWatch dashboard (the `Dashboard` resource) and where to open it, so an operator can look rather than
// query. The dashboard itself is in serverless.yml, so `serverless package` puts it in the template.

/**
 * @typedef {object} Serverless  the part of osls's `serverless` object this plugin reads
 * @property {{ resources?: { Resources?: Record<string, { Type?: string, Properties?: { DashboardName?: unknown } }> } }} service
 * @property {(name: 'aws') => { getRegion(): string }} getProvider
 */

/** The dashboard's name and console URL, or undefined when the stack has none. */
export function describeDashboard(/** @type {Serverless} */ serverless) {
  const resources = Object.values(serverless.service.resources?.Resources ?? {})
  const name = resources.find((resource) => resource.Type === 'AWS::CloudWatch::Dashboard')?.Properties?.DashboardName
  if (typeof name !== 'string') return undefined
  const region = serverless.getProvider('aws').getRegion()
  return `Dashboard: ${name}  https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`
}

/** Prints the dashboard after a deploy. */
export default class Dashboard {
  /**
   * @param {Serverless} serverless
   * @param {unknown} _options
   * @param {{ log: { notice(text: string): void } }} utils
   */
  constructor(serverless, _options, { log }) {
    this.hooks = {
      'after:deploy:deploy': () => {
        const line = describeDashboard(serverless)
        if (line) log.notice(line)
      },
    }
  }
}

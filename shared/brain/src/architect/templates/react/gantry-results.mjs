// Gantry's feature results: after the tests, writes .gantry/results.json with one result per
// feature of the approved plan. A feature passed when every test that checks it passed; features
// the draft does not build are reported as not built, with why.
import { mkdirSync, writeFileSync } from 'node:fs'

const FEATURES = {{features_js}}

export default class GantryResults {
  onTestRunEnd(testModules) {
    const states = new Map()
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests()) {
        states.set(test.name, test.result().state)
      }
    }
    const features = FEATURES.map((feature) => {
      if (feature.not_built) {
        return { name: feature.name, status: 'not_built', detail: feature.not_built }
      }
      const failing = feature.tests.filter((name) => states.get(name) !== 'passed')
      return failing.length === 0
        ? { name: feature.name, status: 'passed' }
        : { name: feature.name, status: 'failed', detail: `did not pass: ${failing.join('; ')}` }
    })
    mkdirSync('.gantry', { recursive: true })
    writeFileSync('.gantry/results.json', JSON.stringify({ features }, null, 2))
  }
}

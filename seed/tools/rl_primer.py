#!/usr/bin/python3
"""Generates seed/rl-primer.json, the "Reinforcement learning primer" course (run: seed/tools/rl_primer.py)."""

from seedlib import dedent, lesson, material, module, question, write_seed

m1 = module("the-rl-setting", "The reinforcement learning setting",
            "Agents, environments, states, actions and rewards: the vocabulary of reinforcement learning.", [
    lesson("agent-and-environment", "Agent and environment", [
        material("the-loop", "The agent–environment loop", """
            # The agent–environment loop

            Reinforcement learning (RL) is learning **by trial and error from rewards**. There
            are two parties:

            - the **agent** — the learner and decision maker (a game-playing program, a robot
              controller, a language model being fine-tuned);
            - the **environment** — everything the agent interacts with (the game, the physical
              world, a user giving feedback).

            They interact in a loop of time steps `t = 0, 1, 2, …`:

            1. the agent observes the **state** `s_t` (or an observation of it);
            2. it chooses an **action** `a_t`;
            3. the environment moves to a new state `s_{t+1}` and returns a **reward** `r_{t+1}`,
               a single number saying how good that step was.

            ```
                    action a_t
              Agent ───────────▶ Environment
                ▲                    │
                └── state s_{t+1}, reward r_{t+1} ──┘
            ```

            The agent is never told which action was *correct* (that would be supervised
            learning). It only sees rewards, often **delayed**: in chess the reward may be +1
            for a win, given only at the very end, and the agent must work out which of its
            many moves deserve the credit. This is the **credit assignment problem**.

            A sequence of steps from a start state to an end (terminal) state is an
            **episode**; some tasks never end and are called **continuing** tasks.

            Formally, the setting is usually modelled as a **Markov decision process (MDP)**:
            states, actions, transition probabilities `P(s' | s, a)`, a reward function, and a
            discount factor `γ`. "Markov" means the next state depends only on the current
            state and action, not on the earlier history.
        """),
        question("who-gets-reward", "Where do rewards come from?", "single",
                 "In reinforcement learning, which party produces the reward signal?",
                 1, choices=["the agent, by scoring its own actions",
                             "the environment, in response to the agent's actions",
                             "a labelled dataset of correct actions",
                             "the policy"],
                 explanation="The environment returns a reward after each action. The agent's goal is to maximise the rewards it collects; it is not given correct actions."),
        question("rl-vs-supervised", "RL versus supervised learning", "multiple",
                 "Which statements describe reinforcement learning as opposed to supervised learning? (Choose all that apply.)",
                 [0, 1, 3], choices=["feedback is a scalar reward rather than the correct answer",
                                     "rewards can arrive many steps after the actions that caused them",
                                     "every training example comes with its correct label",
                                     "the agent's own actions influence which data it sees next"],
                 explanation="RL learns from evaluative, possibly delayed rewards, and its data depends on its own behaviour. Labelled correct answers are the supervised setting."),
        question("markov-property", "The Markov property", "single",
                 "What does the Markov property of an MDP state?",
                 2, choices=["rewards are always between 0 and 1",
                             "the agent must visit every state",
                             "the next state and reward depend only on the current state and action, not on earlier history",
                             "the environment is deterministic"],
                 explanation="The current state summarises everything relevant from the past. MDPs may still be stochastic."),
    ]),
    lesson("returns-and-discounting", "Returns and discounting", [
        material("the-return", "The return: what the agent maximises", """
            # The return

            The agent does not maximise the next reward but the **return**: the sum of the
            rewards from now on. With a **discount factor** `γ` (gamma, between 0 and 1):

            ```
            G_t = r_{t+1} + γ·r_{t+2} + γ²·r_{t+3} + …
            ```

            Why discount?

            - it keeps the sum finite in tasks that never end;
            - it expresses a preference for sooner rewards (and uncertainty about the far
              future);
            - `γ` sets the **horizon**: roughly, rewards more than `1 / (1 − γ)` steps away
              matter little. With `γ = 0.99` that is about 100 steps.

            `γ = 0` makes the agent short-sighted (only the next reward counts); `γ` close to 1
            makes it far-sighted.

            **Example.** Rewards `1, 1, 1` and then the episode ends, with `γ = 0.9`:
            `G_0 = 1 + 0.9·1 + 0.81·1 = 2.71`.

            The return satisfies a simple recursion that everything later builds on:
            `G_t = r_{t+1} + γ·G_{t+1}`.

            ## Designing rewards

            The reward says **what** we want, not **how** to do it. A badly chosen reward gets
            "hacked": an agent rewarded for points collected may circle forever around a
            respawning bonus instead of finishing the race. Reward design is one of the hardest
            parts of applied RL.
        """),
        question("discounted-return", "Compute a discounted return", "numeric",
                 "An episode gives the rewards 2, 0, 4 (in that order) and then ends. With `γ = 0.5`, what is the return `G_0`?",
                 3, tolerance=1e-6,
                 explanation="G_0 = 2 + 0.5·0 + 0.25·4 = 2 + 0 + 1 = 3."),
        question("gamma-zero", "A discount of zero", "single",
                 "What does an agent with `γ = 0` care about?",
                 0, choices=["only the immediate next reward", "all future rewards equally",
                             "only the reward at the end of the episode", "nothing: it cannot learn"],
                 explanation="With γ = 0 every term after the first is multiplied by 0, so G_t = r_{t+1}."),
    ]),
])

m2 = module("policies-and-values", "Policies and value functions",
            "How an agent behaves (its policy) and how it judges situations (value functions).", [
    lesson("policies", "Policies", [
        material("what-is-a-policy", "What is a policy?", """
            # Policies

            A **policy** `π` is the agent's way of behaving: a rule that maps states to
            actions.

            - A **deterministic** policy picks one action per state: `a = π(s)`.
            - A **stochastic** policy gives a probability for each action: `π(a | s)`. For
              example, in state `s` move left with probability 0.7 and right with 0.3.

            In deep RL the policy is a neural network with parameters `θ` (written `π_θ`); for
            discrete actions it outputs a probability per action (a softmax), for continuous
            actions usually the mean and spread of a Gaussian. Acting means **sampling** from
            that distribution.

            Learning in RL means improving the policy so that the expected return is as high
            as possible.

            ## Exploration versus exploitation

            To find good actions the agent must try actions whose value it doesn't know yet
            (**explore**), but to collect reward it should use what it already knows
            (**exploit**). Stochastic policies explore naturally; value-based methods often use
            **ε-greedy**: take the best-known action, except with probability ε a random one.
        """),
        question("stochastic-policy", "Stochastic policies", "single",
                 "What does a stochastic policy `π(a | s)` give?",
                 1, choices=["the reward for taking action a in state s",
                             "a probability for each action a in state s",
                             "the next state after action a",
                             "the value of state s"],
                 explanation="A stochastic policy is a probability distribution over actions for each state; the agent samples its action from it."),
        question("epsilon-greedy", "ε-greedy", "numeric",
                 "An ε-greedy agent with ε = 0.1 has 4 actions. With what probability does it pick the currently best action? (Random choices are uniform over all 4 actions, including the best one.)",
                 0.925, tolerance=1e-6,
                 explanation="0.9 for exploiting, plus 0.1 × 1/4 = 0.025 when the random choice happens to be the best action: 0.925."),
    ]),
    lesson("value-functions", "Value functions and advantages", [
        material("values", "Value functions", """
            # Value functions

            A **value function** estimates how good things are **in the long run**, in terms of
            expected return, when the agent follows a policy `π`:

            - the **state value** `V^π(s)` — the expected return starting from state `s`;
            - the **action value** `Q^π(s, a)` — the expected return when taking action `a` in
              state `s` and following `π` afterwards.

            Reward is immediate; value is long-term. A chess move that loses a piece (bad
            immediate outcome) can still lead to a position of high value.

            ## The Bellman equation

            Because `G_t = r_{t+1} + γ·G_{t+1}`, values satisfy a recursion:

            ```
            V^π(s) = E[ r_{t+1} + γ·V^π(s_{t+1}) | s_t = s ]
            ```

            It lets us learn values from single steps. The **temporal-difference (TD) error**
            measures how much one observed step disagrees with the current estimate:

            ```
            δ_t = r_{t+1} + γ·V(s_{t+1}) − V(s_t)
            ```

            TD learning nudges `V(s_t)` in the direction of `δ_t`.

            ## Advantage

            The **advantage** says how much better an action is than the policy's average
            behaviour in that state:

            ```
            A^π(s, a) = Q^π(s, a) − V^π(s)
            ```

            A positive advantage means "this action was better than usual here — do it more
            often"; a negative one means "do it less". Advantages are central to policy
            gradient methods and PPO.
        """),
        question("v-versus-q", "V versus Q", "single",
                 "What is the difference between `V^π(s)` and `Q^π(s, a)`?",
                 3, choices=["V is for deterministic policies, Q for stochastic ones",
                             "V is the immediate reward, Q the long-term return",
                             "there is none; they are two names for the same function",
                             "Q additionally fixes the first action a, then follows π; V follows π from the start"],
                 explanation="Q conditions on the first action; V averages over the policy's choice of action: V^π(s) = Σ_a π(a|s)·Q^π(s, a)."),
        question("td-error", "A TD error", "numeric",
                 "The current estimates are `V(s) = 8` and `V(s') = 10`. The agent moves from s to s' and receives reward 1, with `γ = 0.9`. What is the TD error `δ`?",
                 2, tolerance=1e-6,
                 explanation="δ = r + γ·V(s') − V(s) = 1 + 0.9·10 − 8 = 1 + 9 − 8 = 2. The estimate V(s) was too low."),
        question("advantage-sign", "Reading an advantage", "single",
                 "In state s, `Q(s, a) = 5` and `V(s) = 7`. What does a policy-gradient method do with action a?",
                 0, choices=["make a less likely in s, since its advantage is −2",
                             "make a more likely, since its Q-value is positive",
                             "nothing: only rewards matter, not values",
                             "always take a, since 5 is its exact return"],
                 explanation="A = Q − V = 5 − 7 = −2 < 0: the action is worse than the policy's average in s, so its probability is decreased."),
        question("advantage-name", "Name the quantity", "short",
                 "What is the quantity `Q(s, a) − V(s)` called? (one word)",
                 ["advantage", "the advantage", "advantage function"],
                 explanation="The advantage: how much better action a is than the average action under the policy."),
    ]),
])

m3 = module("policy-gradients", "Policy gradient methods",
            "Learning the policy directly: the policy gradient, baselines, actor-critic.", [
    lesson("the-policy-gradient", "The policy gradient", [
        material("pg-idea", "Improving a policy by gradient ascent", """
            # Policy gradients

            Instead of learning values and deriving a policy from them, **policy gradient**
            methods adjust the policy's parameters `θ` directly, by gradient ascent on the
            expected return `J(θ)`.

            The policy gradient theorem gives a form we can estimate from sampled experience:

            ```
            ∇J(θ) = E[ ∇ log π_θ(a_t | s_t) · A_t ]
            ```

            Read it as: for every action taken, push up its log-probability in proportion to
            how good it turned out (`A_t`). Good actions become more likely, bad ones less
            likely.

            - **REINFORCE** uses the full sampled return `G_t` in place of `A_t`. It is unbiased
              but very **noisy** (high variance): returns vary a lot from episode to episode.
            - Subtracting a **baseline** `b(s)` that doesn't depend on the action, typically
              `V(s)`, keeps the estimate unbiased and greatly reduces the variance. `G_t − V(s_t)`
              is an estimate of the advantage.

            ## Actor–critic

            An **actor–critic** method has two parts, often two heads of one network:

            - the **actor** — the policy `π_θ`, which chooses actions;
            - the **critic** — a learned value function `V_φ`, which estimates advantages for the
              actor, e.g. with the TD error `δ_t` or with **GAE** (generalised advantage
              estimation), which mixes TD errors over several steps with a parameter `λ` to
              trade bias against variance.

            ## On-policy data

            The gradient formula assumes the data was collected **by the current policy**. After
            one update the policy has changed and the old data no longer fits exactly. Vanilla
            policy gradient therefore uses each batch for a single gradient step — wasteful —
            and a too-large step can wreck the policy, after which it collects bad data and may
            never recover. PPO addresses exactly these two problems.
        """),
        question("baseline-purpose", "Why a baseline?", "single",
                 "Why do policy gradient methods subtract a baseline such as `V(s)` from the return?",
                 2, choices=["to make the gradient estimate biased towards safe actions",
                             "to turn the method into supervised learning",
                             "to reduce the variance of the gradient estimate without changing its expected value",
                             "to make rewards non-negative"],
                 explanation="A baseline that does not depend on the action leaves the expected gradient unchanged but makes individual estimates far less noisy."),
        question("actor-critic-roles", "Actor and critic", "multiple",
                 "In an actor–critic method, which statements are true? (Choose all that apply.)",
                 [0, 1], choices=["the actor is the policy that selects actions",
                                  "the critic estimates values used to compute advantages",
                                  "the critic chooses the actions during training",
                                  "the actor is trained by supervised learning on expert actions"],
                 explanation="The actor acts; the critic evaluates. Neither needs expert labels."),
        question("reinforce-variance", "REINFORCE", "single",
                 "What is the main practical weakness of REINFORCE (the plain Monte Carlo policy gradient)?",
                 1, choices=["it is biased", "its gradient estimates have high variance",
                             "it needs a model of the environment", "it only works with deterministic policies"],
                 explanation="Using full sampled returns makes REINFORCE unbiased but very noisy, so learning is slow and unstable."),
    ]),
])

m4 = module("ppo", "Proximal Policy Optimization (PPO)",
            "What PPO is, how its clipped objective works, and why it trains stably.", [
    lesson("ppo-objective", "The clipped objective", [
        material("ppo-explained", "PPO in one page", """
            # Proximal Policy Optimization

            **PPO** (Schulman et al., 2017) is an actor–critic policy gradient method and one of
            the most widely used RL algorithms — from robotics and games to fine-tuning language
            models from human feedback (RLHF). Its idea: improve the policy as much as the data
            allows, but **never move too far from the policy that collected the data** in one
            update.

            ## The probability ratio

            Data is collected with the old policy `π_old`. For each step, compare how likely the
            new policy makes the same action:

            ```
            r_t(θ) = π_θ(a_t | s_t) / π_old(a_t | s_t)
            ```

            `r_t = 1` means no change; `r_t = 1.3` means the action became 30 % more likely.

            ## The clipped surrogate objective

            ```
            L^CLIP(θ) = E_t[ min( r_t(θ)·A_t ,  clip(r_t(θ), 1 − ε, 1 + ε)·A_t ) ]
            ```

            with a small `ε`, typically **0.2**. `A_t` is the advantage estimate (usually GAE,
            often normalised per batch).

            - If `A_t > 0` (a good action), the objective rewards raising `r_t`, but only up to
              `1 + ε`; beyond that the clipped term is smaller and `min` picks it, so the
              gradient is zero — no incentive to push further.
            - If `A_t < 0` (a bad action), lowering `r_t` helps only down to `1 − ε`.
            - Taking the `min` with the unclipped term makes the objective a **pessimistic
              (lower) bound**: clipping can only remove incentives to change the policy, never
              add them. If an update has moved a ratio the *wrong* way, the unclipped term is
              the smaller one and still pulls it back.

            ## The training loop

            1. Run the current policy for a batch of steps (e.g. a few thousand, across
               parallel environments), storing states, actions, rewards and the old
               log-probabilities.
            2. Compute advantages (GAE) and value targets with the critic.
            3. Optimise `L^CLIP` — plus a value-function loss for the critic and usually a small
               **entropy bonus** that keeps the policy exploring — for **several epochs** of
               minibatch gradient steps over the same batch.
            4. Repeat with the new policy as `π_old`.

            ## Why it is stable

            - **Bounded updates**: clipping removes the incentive to move any action's
              probability ratio outside `[1 − ε, 1 + ε]`, so one batch cannot drag the policy
              far away — a simple first-order stand-in for the trust region of **TRPO**, which
              enforces a KL-divergence constraint with expensive second-order optimisation.
            - **Data reuse without blow-ups**: because updates stay near `π_old`, the ratio
              correction stays accurate and the same batch can safely be used for several
              epochs, making PPO more sample-efficient than vanilla policy gradient.
            - **Low-variance signal**: the critic's advantages (with normalisation) keep
              gradients well scaled.

            Clipping does not strictly guarantee a small change — after many epochs the KL
            divergence can still grow — so implementations often monitor the approximate KL
            between old and new policy and stop the epoch loop early when it exceeds a target.
            A variant, **PPO-penalty**, puts a KL term in the objective instead of clipping.
        """),
        question("ppo-ratio", "The ratio", "single",
                 "In PPO, what is `r_t(θ)`?",
                 1, choices=["the reward at step t",
                             "the probability of the taken action under the new policy divided by its probability under the old policy",
                             "the learning rate schedule",
                             "the ratio of the value loss to the policy loss"],
                 explanation="r_t(θ) = π_θ(a_t|s_t) / π_old(a_t|s_t); it is 1 when the policy has not changed for that action."),
        question("clip-positive", "Clipping with a positive advantage", "numeric",
                 "With `ε = 0.2`, a step has advantage `A = 2` and ratio `r = 1.5`. What is this step's clipped objective `min(r·A, clip(r, 1 − ε, 1 + ε)·A)`?",
                 2.4, tolerance=1e-6,
                 explanation="r·A = 3.0; clip(1.5, 0.8, 1.2) = 1.2, times 2 = 2.4; the minimum is 2.4. Further raising r gains nothing."),
        question("clip-negative", "Clipping with a negative advantage", "numeric",
                 "With `ε = 0.2`, a step has advantage `A = −1` and ratio `r = 0.5`. What is its clipped objective `min(r·A, clip(r, 1 − ε, 1 + ε)·A)`?",
                 -0.8, tolerance=1e-6,
                 explanation="r·A = −0.5; clip(0.5, 0.8, 1.2) = 0.8, times −1 = −0.8; the minimum is −0.8, a constant, so the gradient is zero: the bad action has already been made less likely by more than ε."),
        question("why-min", "Why the min?", "single",
                 "Why does PPO take the minimum of the clipped and the unclipped term?",
                 3, choices=["to make the objective larger and training faster",
                             "to avoid computing the advantage",
                             "so that the policy can only become more random",
                             "so that the objective is a pessimistic bound: clipping removes incentives for large changes but never hides a change that made things worse"],
                 explanation="With the min, the objective never exceeds the unclipped one; moves in a harmful direction are still fully penalised."),
    ]),
    lesson("ppo-in-practice", "PPO in practice", [
        material("ppo-practice", "Hyperparameters and pitfalls", """
            # PPO in practice

            Typical starting values (they vary by task):

            | setting | common value |
            |---|---|
            | clip range ε | 0.1–0.3, often 0.2 |
            | discount γ | 0.99 |
            | GAE λ | 0.95 |
            | epochs per batch | 3–10 |
            | learning rate | ~3·10⁻⁴ (Adam), often annealed |
            | entropy coefficient | 0–0.01 |

            Common pitfalls:

            - **Not normalising advantages** (mean 0, standard deviation 1 per batch) makes the
              scale of updates depend on the reward scale.
            - **Too many epochs or a too-large learning rate** push the policy far from
              `π_old` despite clipping; watch the approximate KL and the fraction of clipped
              samples.
            - **Unscaled observations or rewards** slow learning; normalising them is standard.
            - **Entropy collapsing** too early means the agent stops exploring.

            PPO is **on-policy**: after each update the old batch is discarded and new data is
            collected. Off-policy methods such as DQN or SAC reuse a replay buffer and can be
            more sample-efficient, but PPO is prized for being robust and simple to tune.
        """),
        question("ppo-on-policy", "On- or off-policy?", "single",
                 "Which description of PPO is correct?",
                 0, choices=["on-policy: it learns from batches collected by its current policy, reused for a few epochs, then discarded",
                             "off-policy: it learns from a large replay buffer of old experience",
                             "model-based: it learns a model of the environment and plans with it",
                             "a purely value-based method like Q-learning"],
                 explanation="PPO collects fresh data with the current policy each iteration; the clipping is what makes a few epochs of reuse safe."),
        question("ppo-stability", "What makes PPO stable?", "multiple",
                 "Which of these contribute to PPO's stability? (Choose all that apply.)",
                 [0, 1, 3], choices=["the clipped objective removes the incentive to move probability ratios outside [1 − ε, 1 + ε]",
                                     "advantages from a learned critic (often normalised) reduce gradient variance",
                                     "it uses second-order optimisation with a hard KL constraint, like TRPO",
                                     "monitoring the KL divergence and stopping the epochs early when it grows too large"],
                 explanation="PPO deliberately avoids TRPO's second-order machinery; clipping, critic-based advantages and (in many implementations) a KL early stop keep it stable."),
        question("ppo-typical-epsilon", "Typical clip range", "numeric",
                 "What clip range ε did the original PPO paper use as its default (and many libraries still do)?",
                 0.2, tolerance=1e-9,
                 explanation="ε = 0.2, i.e. ratios are clipped to [0.8, 1.2]."),
        question("entropy-bonus", "The entropy bonus", "short",
                 "PPO implementations often add a small bonus to the objective to keep the policy from becoming deterministic too early, which helps exploration. The bonus rewards the policy's … what? (one word)",
                 ["entropy", "the entropy", "policy entropy"],
                 explanation="An entropy bonus rewards keeping the action distribution spread out, which sustains exploration."),
    ]),
])

COURSE = {
    "org_slug": None,
    "slug": "rl-primer",
    "title": "Reinforcement learning primer",
    "description": dedent("""
        A short, concept-first introduction to reinforcement learning: agents and environments,
        rewards and returns, policies and value functions, policy gradients, and Proximal
        Policy Optimization (PPO) — what its clipped objective does and why it trains stably.

        No code required; some comfort with basic probability and the idea of a gradient
        helps. Each lesson ends with short quizzes.
    """),
    "language": "en",
    "visibility": "public",
    "status": "published",
    "modules": [m1, m2, m3, m4],
}

if __name__ == "__main__":
    print(write_seed("rl-primer.json", COURSE,
                     "Reinforcement learning primer: generated by seed/tools/rl_primer.py -- edit that, then run it"))
